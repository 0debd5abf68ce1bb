// The contract between the fuzz engine and one fuzz target. Each file in test/fuzz/targets/
// exports `target: FuzzTarget`; the engine finds them by listing that folder, so adding a
// target is adding a file.

export interface FuzzTarget {
  /** short name, used by `npm run fuzz -- <name>` and in docs/fuzzing.md */
  name: string;
  /** valid and near-valid inputs the mutator starts from (deterministic: no clock, no randomness) */
  seeds(): Buffer[];
  /**
   * Feed one input. The target catches the errors its code is meant to raise for bad input
   * (a ConfigError, a refused request) and checks what it must (a clear message, a bounded
   * answer); anything thrown or rejected out of run() is a finding, and so is a run that takes
   * longer than the engine's per-input budget.
   */
  run(input: Buffer): void | Promise<void>;
  /** optional: once before the first input (servers, scratch folders) */
  setup?(): Promise<void>;
  /** optional: once after the last input, also after a finding */
  teardown?(): Promise<void>;
}
