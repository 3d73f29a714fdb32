/** Fault injection for callbacks (seed-design §16.4: delayed / lost / repeated payment callbacks). */
export type FaultMode = 'none' | 'delay' | 'drop' | 'duplicate';

export interface FaultSetting {
  mode: FaultMode;
  delayMs?: number;
  duplicates?: number;
  /** How many of the next callbacks it still applies to; null = until reset. */
  remaining: number | null;
}

/** What happens to one callback, decided when it is first dispatched. */
export type FaultDecision = { kind: 'send'; copies: number; delayMs: number } | { kind: 'drop' };

const NONE: FaultSetting = { mode: 'none', remaining: null };

export class Faults {
  private setting: FaultSetting = NONE;

  current = (): FaultSetting => ({ ...this.setting });

  set(setting: FaultSetting): void {
    this.setting = setting.mode === 'none' ? NONE : { ...setting };
  }

  reset(): void {
    this.setting = NONE;
  }

  /** Consumes one use of the current fault (if any) for a callback about to be dispatched. */
  next(): FaultDecision {
    const s = this.setting;
    if (s.remaining !== null) {
      this.setting = s.remaining <= 1 ? NONE : { ...s, remaining: s.remaining - 1 };
    }
    switch (s.mode) {
      case 'drop':
        return { kind: 'drop' };
      case 'delay':
        return { kind: 'send', copies: 1, delayMs: s.delayMs ?? 0 };
      case 'duplicate':
        return { kind: 'send', copies: s.duplicates ?? 2, delayMs: 0 };
      default:
        return { kind: 'send', copies: 1, delayMs: 0 };
    }
  }
}
