/** A logger that records lines instead of printing them. */
export const recordingLogger = () => {
  const lines: string[] = [];
  return {
    lines,
    log: (m: unknown) => void lines.push(`log: ${String(m)}`),
    warn: (m: unknown) => void lines.push(`warn: ${String(m)}`),
    error: (m: unknown) => void lines.push(`error: ${String(m)}`),
  };
};
