/**
 * A state machine declared as data: the states, the table of allowed moves (from → to), and guards
 * (rules a move must also pass, given the facts of the move). `check` is the only judge of a move;
 * `applyTransition` (apply.ts) is the only writer of a status.
 */
export interface MachineDefinition<S extends string, Facts = unknown> {
  /** What moves, in messages: "order", "payment", ... */
  readonly name: string;
  /** Every state, in the order a reader expects them. */
  readonly states: readonly S[];
  /** from → the states it may move to; a state without moves is terminal. */
  readonly transitions: { readonly [K in S]: readonly S[] };
  /** Rules beyond the table: each answers why a move is refused, or null when it may go. */
  readonly guards?: readonly ((move: { from: S; to: S }, facts: Facts) => string | null)[];
  /** The error a refused move raises (a domain error with the contract's code). */
  readonly refuse: (message: string, details: { from: S; to: S; allowed: readonly S[] }) => Error;
}

export interface Machine<S extends string, Facts = unknown> extends MachineDefinition<S, Facts> {
  /** Whether the table allows from → to (guards aside). */
  can(from: S, to: S): boolean;
  isTerminal(state: S): boolean;
  /** Throws `refuse(...)` unless the table allows the move and every guard lets it go. */
  check(from: S, to: S, facts: Facts, subject?: string): void;
  /** Every pair of states with whether the table allows it: what a spec walks. */
  pairs(): { from: S; to: S; allowed: boolean }[];
}

export function defineMachine<S extends string, Facts = unknown>(definition: MachineDefinition<S, Facts>): Machine<S, Facts> {
  for (const [from, targets] of Object.entries(definition.transitions) as [S, readonly S[]][]) {
    if (!definition.states.includes(from)) throw new Error(`${definition.name}: transitions name an unknown state ${from}`);
    for (const to of targets) if (!definition.states.includes(to)) throw new Error(`${definition.name}: ${from} moves to an unknown state ${to}`);
  }
  const can = (from: S, to: S): boolean => definition.transitions[from].includes(to);
  return {
    ...definition,
    can,
    isTerminal: (state) => definition.transitions[state].length === 0,
    check(from, to, facts, subject = `a ${definition.name}`) {
      const allowed = definition.transitions[from];
      if (!can(from, to)) throw definition.refuse(`${subject} in status ${from} cannot become ${to}`, { from, to, allowed });
      for (const guard of definition.guards ?? []) {
        const why = guard({ from, to }, facts);
        if (why !== null) throw definition.refuse(`${subject} cannot go from ${from} to ${to}: ${why}`, { from, to, allowed });
      }
    },
    pairs: () => definition.states.flatMap((from) => definition.states.map((to) => ({ from, to, allowed: can(from, to) }))),
  };
}
