/**
 * The load generator's progress line, on stderr (never stdout, which carries --json): rewritten in
 * place once a second on a terminal, one line every few seconds otherwise (logs, CI).
 */
export class Progress {
  private readonly tty = process.stderr.isTTY;
  private lastLineAt = 0;
  private dirty = false;

  /** Shows `line`; off a terminal, at most one line per `everyMs`. */
  update(line: string, everyMs = 2000): void {
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.dirty = true;
      return;
    }
    const now = performance.now();
    if (now - this.lastLineAt < everyMs) return;
    this.lastLineAt = now;
    process.stderr.write(`${line}\n`);
  }

  /** A line that stays (ends the progress line first). */
  log(line: string): void {
    this.clear();
    process.stderr.write(`${line}\n`);
  }

  clear(): void {
    if (this.dirty) process.stderr.write('\r\x1b[2K');
    this.dirty = false;
  }
}

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
