// The three examples' servers at once (msl-loadlib's test_unique_ports and test_lib_name): each is its own
// 32-bit process with its own library, calls to them overlap, and an error in one leaves the others be.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CppClient } from '../../examples/loadlib/cpp/cpp-client.js';
import { EchoClient } from '../../examples/loadlib/echo/echo-client.js';
import { FortranClient } from '../../examples/loadlib/fortran/fortran-client.js';

describe('the cpp, fortran and echo examples side by side', () => {
  let cpp: CppClient;
  let fortran: FortranClient;
  let echo: EchoClient;
  beforeAll(async () => {
    cpp = new CppClient();
    fortran = new FortranClient();
    echo = new EchoClient();
    await Promise.all([cpp.ready, fortran.ready, echo.ready]);
  });
  afterAll(async () => {
    await Promise.all([cpp?.shutdownServer32(), fortran?.shutdownServer32(), echo?.shutdownServer32()]);
  });

  it('runs three 32-bit processes, each with its own library', () => {
    const pids = new Set([cpp.serverPid, fortran.serverPid, echo.serverPid]);
    expect(pids.size).toBe(3);
    expect(pids.has(process.pid)).toBe(false);
    expect(cpp.lib32Path).toMatch(/libfarcall_cpp-32\.so$/);
    expect(fortran.lib32Path).toMatch(/libfarcall_fortran-32\.so$/);
    expect(echo.lib32Path).toMatch(/libfarcall_example-32\.so$/);
  });

  it('answers overlapping calls to all three, and an error in one leaves the others serving', async () => {
    const rounds = Array.from({ length: 20 }, (_, i) =>
      Promise.all([
        cpp.add('int32', i, 1),
        fortran.sumInt(64, BigInt(i), 1n),
        echo.echo(`call ${i}`),
        fortran.matrixProduct([[1, 2]], [[1, 2]]).then(
          () => 'no error',
          (error: Error) => error.message,
        ),
      ]),
    );
    const results = await Promise.all(rounds);
    results.forEach(([sum, bigSum, echoed, failure], i) => {
      expect(sum).toBe(i + 1);
      expect(bigSum).toBe(BigInt(i + 1));
      expect(echoed).toEqual([`call ${i}`]);
      expect(failure).toMatch(/cannot multiply a 1x2 matrix by a 1x2 matrix/);
    });
  });
});
