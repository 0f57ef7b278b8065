/**
 * Hands out names that are unique among everything handed out so far: the first "A" stays "A",
 * later ones become "A (2)", "A (3)"... skipping any that are taken (a node may really be called
 * "A (2)"). Each base remembers its next suffix, so n names cost O(n), not O(n²).
 */
export class UniqueNames {
  private readonly used = new Set<string>();
  private readonly nextSuffix = new Map<string, number>();

  /** `reserved` names are never handed out (mihomo's built-in policies, our group names). */
  constructor(reserved: Iterable<string> = []) {
    for (const name of reserved) this.used.add(name);
  }

  take(name: string): string {
    if (!this.used.has(name)) {
      this.used.add(name);
      return name;
    }
    let n = this.nextSuffix.get(name) ?? 2;
    let candidate = `${name} (${n})`;
    while (this.used.has(candidate)) candidate = `${name} (${++n})`;
    this.nextSuffix.set(name, n + 1);
    this.used.add(candidate);
    return candidate;
  }
}
