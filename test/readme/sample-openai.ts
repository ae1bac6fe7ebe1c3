// The README's example of the sample's OpenAI-compatible route, read with the official client.
// test/readme/sample-openai.e2e-spec.ts runs it against the sample's AppModule.
import OpenAI from 'openai';

/** The sample's answer to `question`, token by token through `onToken`, as the openai client reads it. */
export async function askTheSample(
  question: string,
  onToken: (token: string) => void = () => undefined,
  baseURL = 'http://localhost:3000/v1',
): Promise<string> {
  // `npm start`, then:
  const openai = new OpenAI({ baseURL, apiKey: 'unused' }); // baseURL: 'http://localhost:3000/v1'
  const stream = await openai.chat.completions.create({
    model: 'any', // the sample ignores it
    messages: [{ role: 'user', content: question }],
    stream: true,
  });
  let answer = '';
  for await (const chunk of stream) {
    const token = chunk.choices[0]?.delta?.content ?? '';
    onToken(token); // e.g. process.stdout.write(token)
    answer += token;
  }
  return answer;
}
