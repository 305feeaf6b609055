/**
 * Lines of restore input built word by word, as kube-proxy's LineBuffer: reset and reused each
 * sync. The discard variant only counts, for chains a partial sync leaves out.
 */
export class LineBuffer {
  private lines_: string[] = [];
  private count = 0;
  constructor(private readonly discard = false) {}

  write(...words: (string | readonly string[])[]): void {
    this.count++;
    if (this.discard) return;
    // join() makes one flat string; `+=` would keep each line as a rope of its words, several
    // times its size, for as long as the line is kept (the render cache keeps many).
    // Words are separated by one space once the line has begun (leading empty words vanish).
    const parts: string[] = [];
    for (const w of words) {
      if (typeof w === 'string') {
        if (w || parts.length) parts.push(w);
      } else for (const x of w) if (x || parts.length) parts.push(x);
    }
    this.lines_.push(parts.join(' '));
  }

  writeLine(line: string): void {
    this.count++;
    if (!this.discard) this.lines_.push(line);
  }

  reset(): void {
    this.lines_ = [];
    this.count = 0;
  }

  get lineCount(): number {
    return this.count;
  }

  /** the lines written so far (empty for a discard buffer) */
  lines(): string[] {
    return this.discard ? [] : this.lines_;
  }

  text(): string {
    return this.lines_.length ? this.lines_.join('\n') + '\n' : '';
  }
}
