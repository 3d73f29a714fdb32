// Command-line flags of the benchmarks: the flag first, then its BENCH_* environment variable, then the default.
import { parseArgs } from 'node:util';

/** `raw` as an integer in min..max, or an error naming the flag. */
export const positiveInt = (name, raw, { min = 1, max = 10_000_000 } = {}) => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return value;
};

/**
 * Parses `argv` strictly against `options` (node:util parseArgs shapes) plus --help / -h.
 * `pick(flag, variable, fallback)`: the flag's value, else the environment variable when not empty, else the fallback;
 * `int(flag, variable, fallback, range)`: the same, checked by positiveInt.
 */
export function readFlags(argv, env, options) {
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true });
  const pick = (flag, variable, fallback) => values[flag] ?? (env[variable] || undefined) ?? fallback;
  const int = (flag, variable, fallback, range) => positiveInt(flag, pick(flag, variable, fallback), range);
  return { values, help: values.help ?? false, pick, int };
}
