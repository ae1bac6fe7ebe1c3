import { Injectable } from '@nestjs/common';

/** One exported row. `progress` goes from 0 (exclusive) to 1: the last row has 1. */
export interface ExportRow {
  id: number;
  customer: string;
  country: string;
  plan: 'free' | 'team' | 'enterprise';
  amount: number;
  createdAt: string;
  progress: number;
}

const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Margaret',
  'Ken',
  'Radia',
  'Linus',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Hamilton',
  'Thompson',
  'Perlman',
  'Torvalds',
];
const COUNTRIES = ['DE', 'FR', 'US', 'CN', 'JP', 'BR', 'IN', 'NL', 'SE', 'CA'];
const PLANS = ['free', 'team', 'enterprise'] as const;

/** Rows read per "database page"; a short pause between pages makes the progress visible. */
export const PAGE_SIZE = 50;
export const PAGE_DELAY_MS = 25;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** A pretend report: rows produced page by page, as a cursor over a database would. */
@Injectable()
export class ExportService {
  /**
   * Yields `rows` rows. Pulled: the writer asks for the next row only when the socket has room,
   * and stops asking (the generator's `finally` runs) when the client leaves.
   */
  async *rows(rows: number): AsyncGenerator<ExportRow> {
    const start = Date.UTC(2025, 0, 1);
    for (let i = 0; i < rows; i++) {
      if (i > 0 && i % PAGE_SIZE === 0) await sleep(PAGE_DELAY_MS);
      yield {
        id: i + 1,
        customer: `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]}`,
        country: COUNTRIES[(i * 3) % COUNTRIES.length],
        plan: PLANS[i % 7 === 0 ? 2 : i % 3 === 0 ? 1 : 0],
        amount: Math.round(((i * 7919) % 100000) / 10) / 10,
        createdAt: new Date(start + i * 3_600_000).toISOString(),
        progress: Math.round(((i + 1) / rows) * 10000) / 10000,
      };
    }
  }
}
