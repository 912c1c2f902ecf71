/**
 * How a device asks a person for a credential its options did not give: the prompt's type, and the
 * prompt that asks on the terminal. Its own module because the socket's options name the type and the
 * handshake uses it, and they must not import each other.
 * @module
 */
import { createInterface } from 'node:readline/promises';

/** The credential a `username`/`password` question asks for. */
export type CredentialField = 'username' | 'password' | 'passwordManager';

/**
 * Asks a person for a credential the options did not give (msl-network asks on the terminal too).
 * Resolves with the answer.
 */
export type CredentialPrompt = (field: CredentialField, question: string) => Promise<string>;

/**
 * Asks on the terminal (stderr; passwords are not echoed). `undefined` when stdin is not a terminal:
 * then a missing credential is an error that names the option to pass.
 */
export function terminalCredentialPrompt(): CredentialPrompt | undefined {
  if (!process.stdin.isTTY) return undefined;
  return async (field, question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const secret = field !== 'username';
    // readline has no public switch for hidden input; muting its echo is the usual way.
    const writer = rl as unknown as { _writeToOutput: (text: string) => void };
    const original = writer._writeToOutput.bind(rl);
    writer._writeToOutput = (text: string) => {
      if (!secret || text === question) original(text);
    };
    try {
      return await rl.question(question);
    } finally {
      if (secret) process.stderr.write('\n');
      rl.close();
    }
  };
}
