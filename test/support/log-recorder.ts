import type { Logger } from '../../src/log/logger.js';

/**
 * A `logger` option that keeps every record as `"<level> <line>"`, for tests that read what a part
 * logged.
 */
export function recorder(): { logger: Logger; records: string[] } {
  const records: string[] = [];
  const keep = (level: string) => (line: string) => void records.push(`${level} ${line}`);
  return {
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
    records,
  };
}
