import { describe, expect, it } from 'vitest';
import { defineMachine } from './machine.js';

const refuse = (message: string) => new Error(message);

describe('defineMachine', () => {
  it('refuses a table that names a state it does not declare', () => {
    expect(() => defineMachine<'A' | 'B'>({ name: 'broken', states: ['A'] as ('A' | 'B')[], transitions: { A: ['B'], B: [] }, refuse })).toThrow(
      /unknown state/,
    );
  });

  it('lists every pair of states once, with what the table allows', () => {
    const m = defineMachine<'A' | 'B'>({ name: 'ab', states: ['A', 'B'], transitions: { A: ['B'], B: [] }, refuse });
    expect(m.pairs()).toEqual([
      { from: 'A', to: 'A', allowed: false },
      { from: 'A', to: 'B', allowed: true },
      { from: 'B', to: 'A', allowed: false },
      { from: 'B', to: 'B', allowed: false },
    ]);
    expect(m.isTerminal('B')).toBe(true);
  });
});
