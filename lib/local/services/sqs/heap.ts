/** A binary min-heap ordered by `at` (epoch ms), for messages waiting to become visible. */
export interface HeapEntry<T> {
  readonly at: number;
  readonly item: T;
  readonly rev: number;
}

export class MinHeap<T> {
  private items: HeapEntry<T>[] = [];

  get size(): number {
    return this.items.length;
  }

  push(entry: HeapEntry<T>): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent];
      if (!p || p.at <= entry.at) break;
      items[i] = p;
      i = parent;
    }
    items[i] = entry;
  }

  peek(): HeapEntry<T> | undefined {
    return this.items[0];
  }

  pop(): HeapEntry<T> | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || !last) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      let smallestAt = last.at;
      const left = items[l];
      const right = items[r];
      if (l < n && left && left.at < smallestAt) {
        smallest = l;
        smallestAt = left.at;
      }
      if (r < n && right && right.at < smallestAt) smallest = r;
      if (smallest === i) break;
      const child = items[smallest];
      if (!child) break;
      items[i] = child;
      i = smallest;
    }
    items[i] = last;
    return top;
  }

  clear(): void {
    this.items = [];
  }
}
