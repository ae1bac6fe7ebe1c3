import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { Flush } from 'nestjs-flush';
import { ApiFlush } from 'nestjs-flush/swagger';
import { EXPORT_ROW_SCHEMA } from '../docs/stream-schemas.js';
import { ExportService, type ExportRow } from './export.service.js';

export const DEFAULT_ROWS = 1000;
export const MAX_ROWS = 100_000;

@Controller('api/export')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  /**
   * A large export as NDJSON (`application/x-ndjson`), one row per line, each flushed as it is
   * produced: the client shows progress and can process rows before the export ends.
   * `?rows=N` (1 to 100000) is validated before the stream opens, so bad input gets a real 400.
   */
  @Get()
  @Flush({ format: 'ndjson' })
  @ApiFlush({ format: 'ndjson', events: { row: EXPORT_ROW_SCHEMA } })
  export(@Query('rows') rows?: string): AsyncIterable<ExportRow> {
    const n = rows === undefined || rows === '' ? DEFAULT_ROWS : Number(rows);
    if (!Number.isInteger(n) || n < 1 || n > MAX_ROWS) {
      throw new BadRequestException(`"rows" must be a whole number from 1 to ${MAX_ROWS}`);
    }
    return this.exports.rows(n);
  }
}
