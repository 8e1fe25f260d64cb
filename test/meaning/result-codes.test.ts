import { describe, expect, it } from 'vitest';
import { KNOWN_RESULT_CODES, meaningOfResultCode } from '../../src/meaning/result-codes.js';

// The REST document's table, as printed: code, description, "Transaction State".
const DOCUMENT_TABLE = `
0	Unknown error	FINAL: NOT DELIVERED, NOT BILLED
1	Temporary routing error	FINAL: NOT DELIVERED, NOT BILLED
2	Permanent routing error	FINAL: NOT DELIVERED, NOT BILLED
3	Maximum throttling exceeded	FINAL: NOT DELIVERED, NOT BILLED
4	Timeout	FINAL: UNKNOWN DELIVERY, UNKNOWN BILLING
5	Operator unknown error	FINAL: UNKNOWN DELIVERY, UNKNOWN BILLING
6	Operator error	FINAL: NOT DELIVERED, NOT BILLED
104	Configuration error	FINAL: NOT DELIVERED, NOT BILLED
105	Internal error (internal Link Mobility error)	FINAL: NOT DELIVERED, NOT BILLED
1000	Sent (to operator)	TEMP : NOT DELIVERED, NOT BILLED
1001	Billed and delivered	FINAL: DELIVERED, BILLED (if applicable)
1002	Expired	FINAL: NOT DELIVERED, NOT BILLED
1003	Deleted	FINAL: NOT DELIVERED, NOT BILLED
1004	Mobile full	FINAL: NOT DELIVERED, NOT BILLED
1005	Queued	TEMP : NOT DELIVERED, NOT BILLED
1006	Not delivered	FINAL: NOT DELIVERED, NOT BILLED
1007	Delivered, Billed delayed	TEMP : DELIVERED, NOT BILLED
1008	Billed OK (charged OK before sending message)	TEMP : NOT DELIVERED, BILLED
1009	Billed OK and NOT Delivered	FINAL: NOT DELIVERED, BILLED
1010	Expired, absence of operator delivery report	FINAL: UNKOWN DELIVERY, UNKNOWN BILLING
1011	Billed OK and sent (to operator)	TEMP : NOT DELIVERED, BILLED
1012	Delayed (temporary billing error, system will try to resend)	TEMP : NOT DELIVERED, NOT BILLED (resending)
1013	Message sent to operator, Bill delayed	TEMP : NOT DELIVERED, NOT BILLED
2000	Invalid source, the specified source number or Alpha is invalid	FINAL: NOT DELIVERED, NOT BILLED
2001	Source shortnumber not supported, the source TON may not be set to shortnumber	FINAL: NOT DELIVERED, NOT BILLED
2002	Source alpha not supported, the source TON may not be set to alpha	FINAL: NOT DELIVERED, NOT BILLED
2003	Source MSISDN not supported, the source TON may not be set to MSISD	FINAL: NOT DELIVERED, NOT BILLED
2100	Destination shortnumber not supported, the destination TON may not be set to shortnumber	FINAL: NOT DELIVERED, NOT BILLED
2101	Destination alpha not supported, the destination TON may not be set to alpha	FINAL: NOT DELIVERED, NOT BILLED
2102	Destination MSIDN not supported, the destination TON may not be set to MSISDN	FINAL: NOT DELIVERED, NOT BILLED
2103	Operation blocked, requested operation is not supported for the specified destination	NOT DELIVERED, NOT BILLED
2104	Unknown subscriber	FINAL: NOT DELIVERED, NOT BILLED
2105	Destination blocked (subscriber permanently barred)	FINAL: NOT DELIVERED, NOT BILLED
2106	Number error	FINAL: NOT DELIVERED, NOT BILLED
2107	Destination temporarily blocked (subscriber temporarily barred)	FINAL: NOT DELIVERED, NOT BILLED
2200	Charging error	FINAL: NOT DELIVERED, NOT BILLED
2201	Subscriber has low balance	FINAL: NOT DELIVERED, NOT BILLED
2202	Subscriber barred for overcharged (premium) messages	FINAL: NOT DELIVERED, NOT BILLED
2203	Subscriber too young (for this particular content)	FINAL: NOT DELIVERED, NOT BILLED
2204	Prepaid subscriber not allowed	FINAL: NOT DELIVERED, NOT BILLED
2205	Service rejected by subscriber	FINAL: NOT DELIVERED, NOT BILLED
2206	Subscriber not registered in payment system	FINAL: NOT DELIVERED, NOT BILLED
2207	Subscriber has reached max balance	FINAL: NOT DELIVERED, NOT BILLED
3000	GSM encoding is not supported	FINAL: NOT DELIVERED, NOT BILLED
3001	UCS2 encoding is not supported	FINAL: NOT DELIVERED, NOT BILLED
3002	Binary encoding is not supported	FINAL: NOT DELIVERED, NOT BILLED
4000	Delivery report is not supported	FINAL: NOT DELIVERED, NOT BILLED
4001	Invalid message content	FINAL: NOT DELIVERED, NOT BILLED
4002	Invalid tariff	FINAL: NOT DELIVERED, NOT BILLED
4003	Invalid user data	FINAL: NOT DELIVERED, NOT BILLED
4004	Invalid user data header	FINAL: NOT DELIVERED, NOT BILLED
4005	Invalid data coding	FINAL: NOT DELIVERED, NOT BILLED
4006	Invalid VAT	FINAL: NOT DELIVERED, NOT BILLED
4007	Unsupported content for destination	FINAL: NOT DELIVERED, NOT BILLED
`;

interface Row {
  code: number;
  description: string;
  state: string;
}

const rows: Row[] = DOCUMENT_TABLE.trim()
  .split('\n')
  .map((line) => {
    const [code = '', description = '', state = ''] = line.split('\t');
    return { code: Number(code), description, state };
  });

/** Reads the state column the way the contract says: 2103's unprefixed state counts as final. */
function expectedFrom(state: string) {
  const final = !state.startsWith('TEMP');
  const delivery = /UNKN?OWN DELIVERY/.test(state) ? 'UNKNOWN' : state.includes('NOT DELIVERED') ? 'NOT_DELIVERED' : 'DELIVERED';
  const billing = state.includes('UNKNOWN BILLING') ? 'UNKNOWN' : state.includes('NOT BILLED') ? 'NOT_BILLED' : 'BILLED';
  const status = delivery === 'DELIVERED' ? 'delivered' : delivery === 'UNKNOWN' ? 'unknown' : final ? 'failed' : 'pending';
  return { final, delivery, billing, status };
}

describe('the result-code table', () => {
  it('holds every code of the document and no other', () => {
    expect([...KNOWN_RESULT_CODES].sort((a, b) => a - b)).toEqual(rows.map((row) => row.code).sort((a, b) => a - b));
  });

  it.each(rows)('$code ($description) means what its transaction state says', ({ code, description, state }) => {
    const meaning = meaningOfResultCode(code);
    expect(meaning.description).toBe(description);
    expect({ final: meaning.final, delivery: meaning.delivery, billing: meaning.billing, status: meaning.status }).toEqual(
      expectedFrom(state),
    );
  });

  it('reads the named cases of the contract as it says', () => {
    expect(meaningOfResultCode(1007)).toMatchObject({ status: 'delivered', final: false });
    for (const code of [4, 5, 1010]) expect(meaningOfResultCode(code).status).toBe('unknown');
    for (const code of [1000, 1005, 1008, 1011, 1012, 1013]) expect(meaningOfResultCode(code)).toMatchObject({ status: 'pending', final: false });
    expect(meaningOfResultCode(2103)).toMatchObject({ status: 'failed', final: true });
  });

  it.each([-1, 7, 999, 1014, 9999, 2147483647])('treats %i, which the table lacks, as unknown and not final', (code) => {
    expect(meaningOfResultCode(code)).toEqual({
      resultCode: code,
      description: 'Unrecognised result code',
      final: false,
      delivery: 'UNKNOWN',
      billing: 'UNKNOWN',
      status: 'unknown',
    });
  });
});
