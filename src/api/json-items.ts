// Cuts the text of one JSON object of the shape {"...": ..., "items": [{...}, {...}]} (a
// Kubernetes List) into its items as the bytes arrive, so a 20 MB list is never one string nor
// one parsed tree: each item is handed over as its own bytes once its closing brace is read,
// and only the text around the items is kept. Used for --objects files (objects-file.ts) and
// list responses (client/rest.ts).

/** The text is not a JSON object with an array of objects under "items" that this cuts. */
export class NotCuttable extends Error {
  override name = 'NotCuttable';
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

export class JsonItemsCutter {
  /** the top-level text read before "items" opened, parsed (with the items empty); undefined before */
  head: Record<string, unknown> | undefined;
  private readonly rest: Buffer[] = [];
  private item: Buffer[] = [];
  private key: Buffer[] = [];
  private lastKey = '';
  private expectKey = false;
  private depth = 0;
  private inString = false;
  private escape = false;
  private inItems = false;
  private itemsSeen = false;
  private ended = false;
  private leadingBom = true;

  constructor(private readonly onItem: (bytes: Buffer) => void) {}

  /** Reads one chunk; the chunk may be kept (pieces of it) until the item it carries ends. */
  write(chunk: Buffer): void {
    const n = chunk.length;
    // where the unsaved bytes of the top-level text, the item and the key start in this chunk
    let restFrom = this.inItems ? -1 : 0;
    let itemFrom = this.item.length ? 0 : -1;
    let keyFrom = this.key.length ? 0 : -1;
    let i = 0;
    if (this.leadingBom) {
      if (n >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = restFrom = 3;
      this.leadingBom = false;
    }
    for (; i < n; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (b === 0x5c) this.escape = true;
        else if (b === 0x22) {
          this.inString = false;
          if (keyFrom >= 0) {
            this.key.push(chunk.subarray(keyFrom, i + 1));
            this.lastKey = JSON.parse(Buffer.concat(this.key).toString('utf8')) as string;
            this.key = [];
            keyFrom = -1;
          }
        }
        continue;
      }
      if (isSpace(b)) continue;
      if (this.ended) throw new NotCuttable('text after the end of the object');
      if (this.depth === 0) {
        if (b !== 0x7b) throw new NotCuttable('not an object');
        this.depth = 1;
        this.expectKey = true;
        continue;
      }
      if (this.inItems && this.depth === 2) {
        // between items
        if (b === 0x2c) continue;
        if (b === 0x5d) {
          this.inItems = false;
          this.depth = 1;
          restFrom = i;
          continue;
        }
        if (b !== 0x7b) throw new NotCuttable('an item that is not an object');
        itemFrom = i;
        this.depth = 3;
        continue;
      }
      if (b === 0x22) {
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          keyFrom = i;
          this.expectKey = false;
        }
        continue;
      }
      if (b === 0x7b || b === 0x5b) {
        if (this.depth === 1 && this.lastKey === 'items' && b === 0x5b) {
          if (this.itemsSeen) throw new NotCuttable('two "items"');
          this.itemsSeen = true;
          this.inItems = true;
          this.rest.push(chunk.subarray(restFrom, i + 1));
          restFrom = -1;
          try {
            this.head = JSON.parse(Buffer.concat([...this.rest, Buffer.from(']}')]).toString('utf8')) as Record<string, unknown>;
          } catch {
            throw new NotCuttable('not JSON');
          }
          this.depth = 2;
          continue;
        }
        this.depth++;
        continue;
      }
      if (b === 0x7d || b === 0x5d) {
        this.depth--;
        if (this.inItems && this.depth === 2) {
          this.item.push(chunk.subarray(itemFrom, i + 1));
          itemFrom = -1;
          const bytes = this.item.length === 1 ? this.item[0]! : Buffer.concat(this.item);
          this.item = [];
          this.onItem(bytes);
        } else if (this.depth === 0) this.ended = true;
        continue;
      }
      if (this.depth === 1 && b === 0x2c) this.expectKey = true;
    }
    // Pieces that continue into the next chunk.
    if (itemFrom >= 0) this.item.push(chunk.subarray(itemFrom, n));
    if (keyFrom >= 0) this.key.push(chunk.subarray(keyFrom, n));
    if (restFrom >= 0) this.rest.push(chunk.subarray(restFrom, n));
  }

  /** The whole top-level object, its items left out (`items: []` when it had them). */
  end(): Record<string, unknown> {
    if (!this.ended) throw new NotCuttable('the text ended inside the object');
    let top: unknown;
    try {
      top = JSON.parse(Buffer.concat(this.rest).toString('utf8'));
    } catch {
      throw new NotCuttable('not JSON');
    }
    return top as Record<string, unknown>;
  }

  /** whether an "items" array was read */
  get hadItems(): boolean {
    return this.itemsSeen;
  }
}
