// The runnable example of the README (examples/loadlib-client.mjs with examples/loadlib-server.mjs) runs
// against the real 32-bit server and prints the library contract's results.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('examples/loadlib-client.mjs', () => {
  it("prints the example library's results, computed in the 32-bit server", async () => {
    const script = fileURLToPath(new URL('../../examples/loadlib-client.mjs', import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [script], { timeout: 15_000 }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      );
    });
    expect(stdout).toContain('add(1, 2) = 3\n');
    expect(stdout).toMatch(/circumference\(0\.5, 65536\) = 3\.14159265/);
    expect(stdout).toContain('libfarcall_example-32.so');
    expect(stdout).toContain("arch: 'ia32'");
    expect(stdout).toContain('the server printed: bye: ExampleServer is shutting down');
    expect(stdout).toContain('subtract(44.2, 4.4) = 39.79999923706055 (float32)');
    expect(stdout).toContain('reverse_string_v2 = ytniatrecnu');
    expect(stdout).toContain('distance_4_points(unit square) = 4\n');
    const concurrent = Number(/4 concurrent sleep\(200\) took (\d+) ms/.exec(stdout)?.[1]);
    expect(concurrent).toBeLessThan(700);
  });
});
