/** One sample of a Prometheus text exposition. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses Prometheus text format 0.0.4, strictly: every line is a `# HELP`, a `# TYPE` or a sample
 * of a metric whose TYPE came before it; throws on anything else.
 */
export const parsePrometheusText = (
  text: string,
): { samples: PromSample[]; types: Record<string, string>; help: Record<string, string> } => {
  const samples: PromSample[] = [];
  const types: Record<string, string> = {};
  const help: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : types)[meta[2]] = meta[3];
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`Not Prometheus text: ${JSON.stringify(line)}`);
    const [, name, labelText = '', raw] = sample;
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!types[name] && !types[family]) throw new Error(`Sample before its TYPE: ${line}`);
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`Bad value: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of labelText.matchAll(LABEL)) labels[m[1]] = m[2];
    samples.push({ name, labels, value });
  }
  return { samples, types, help };
};

/** The sum of the samples `name` whose labels include `labels` (0 when none). */
export const sampleValue = (
  samples: readonly PromSample[],
  name: string,
  labels: Record<string, string> = {},
): number =>
  samples
    .filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
