/** Types for the parts of the `smpp` package (plain JavaScript) that the receiver and its tests use. */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';
  import type { ConnectionOptions } from 'node:tls';

  namespace smpp {
    interface Pdu {
      readonly command: string;
      readonly command_id: number;
      readonly command_status: number;
      readonly sequence_number: number;
      readonly [field: string]: unknown;
      isResponse(): boolean;
      response(options?: Record<string, unknown>): Pdu;
    }

    type ResponseCallback = (pdu: Pdu) => void;

    interface Session extends EventEmitter {
      readonly socket: Socket;
      send(pdu: Pdu, responseCallback?: ResponseCallback): boolean;
      bind_receiver(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
      bind_transceiver(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
      enquire_link(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
      unbind(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
      deliver_sm(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
      data_sm(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
    }

    interface Server extends NetServer {
      readonly sessions: Session[];
    }

    interface ConnectOptions extends ConnectionOptions {
      readonly host: string;
      readonly port: number;
      readonly tls?: boolean;
    }

    /** How a field's value is read from a PDU: at `offset`; a TLV's `length` is the one it declares. */
    interface FieldType {
      read(buffer: Buffer, offset: number, length?: number): unknown;
    }

    interface FieldFilter {
      decode(this: Pdu, value: unknown, skipUdh?: boolean): unknown;
    }

    interface FieldDefinition {
      type: FieldType;
      filter?: FieldFilter;
    }

    /** A PDU built from its command and fields, as a gateway sends it. */
    class PDU {
      constructor(command: string, options?: Record<string, unknown>);
      toBuffer(): Buffer;
    }

    function connect(options: ConnectOptions): Session;
    function createServer(options: Record<string, unknown>, listener: (session: Session) => void): Server;

    const commands: Record<string, { params?: Record<string, FieldDefinition> }>;
    const tlvs: Record<string, FieldDefinition>;
    const errors: Record<string, number>;
  }

  const smpp: typeof smpp;
  export = smpp;
}
