/**
 * A TCP relay to the PostgreSQL server that can go silent, as a network does when a link or a
 * firewall drops packets: connections stay open, but nothing sent either way arrives, and no error
 * comes. Once it speaks again, what was held arrives in order, as TCP's retransmissions deliver it.
 */
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';

export interface SilentNetwork {
  /** DATABASE_URL through the relay. */
  readonly url: string;
  readonly silence: () => void;
  readonly speak: () => void;
  /**
   * Speaks for connections made from now on, while those made before stay silent: as after a long
   * silence, when TCP waits minutes between retransmissions on the old connections.
   */
  readonly speakToNewConnections: () => void;
  readonly close: () => Promise<void>;
}

/** One direction of a connection: forwards, or holds while it is silent. */
interface Direction {
  readonly to: Socket;
  readonly held: Buffer[];
  silent: boolean;
}

export async function startSilentNetwork(serverUrl: string): Promise<SilentNetwork> {
  const target = new URL(serverUrl);
  let silent = false;
  const directions: Direction[] = [];
  const sockets = new Set<Socket>();
  const relay = (from: Socket, to: Socket) => {
    const direction: Direction = { to, held: [], silent };
    directions.push(direction);
    from.on('data', (chunk: Buffer) => {
      if (direction.silent) direction.held.push(chunk);
      else to.write(chunk);
    });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the relay has no port');
  const url = new URL(serverUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    silence: () => {
      silent = true;
      for (const direction of directions) direction.silent = true;
    },
    speak: () => {
      silent = false;
      for (const direction of directions) {
        direction.silent = false;
        for (const chunk of direction.held.splice(0)) if (!direction.to.destroyed) direction.to.write(chunk);
      }
    },
    speakToNewConnections: () => {
      silent = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
