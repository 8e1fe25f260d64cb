/** The facts of an SMPP delivery receipt (`deliver_sm`), checked and typed. */

export interface DeliveryReceipt {
  /** The id of the message the receipt is for: `receipted_message_id` when present, else the text's `id`. */
  readonly id: string;
  /** `sub` and `dlvrd`: how many messages were submitted and delivered, as the text gives them. */
  readonly submitted: string | null;
  readonly delivered: string | null;
  /** `submit date` and `done date`, read as UTC. */
  readonly submitDate: Date | null;
  readonly doneDate: Date | null;
  /** The state word (`DELIVRD`, …): from the `message_state` TLV when present, else the text's `stat`. */
  readonly stat: string | null;
  /** The `err` value as it arrived (`000`, `108`). */
  readonly err: string | null;
  /** The original message's sender and recipient (a receipt's addresses are those swapped). */
  readonly source: string | null;
  readonly destination: string | null;
}
