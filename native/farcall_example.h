/*
 * farcall_example.h — the example library that farcall's tests and examples load, 32- and 64-bit.
 *
 * It follows the contract of msl-loadlib's cpp_lib example (add, subtract, add_or_subtract,
 * scalar_multiply, reverse_string_v1/v2, distance_4_points, distance_n_points), so that the same
 * Client64/Server32 examples work in both projects, and adds what the failure tests need:
 * crash() (SIGSEGV), sleep_ms() (a slow call) and a __stdcall variant of add.
 */
#ifndef FARCALL_EXAMPLE_H
#define FARCALL_EXAMPLE_H

#include <stdbool.h>

#if defined(_WIN32)
#define FARCALL_EXPORT __declspec(dllexport)
#else
#define FARCALL_EXPORT __attribute__((visibility("default")))
#endif

/* stdcall only exists on 32-bit Windows; everywhere else the functions below use the default
 * convention, which matches LoadLibrary's 'windll' behaving as 'cdll' off Windows. */
#if defined(_WIN32) && (defined(__i386__) || defined(_M_IX86))
#define FARCALL_STDCALL __stdcall
#else
#define FARCALL_STDCALL
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct Point {
  double x;
  double y;
};

struct FourPoints {
  struct Point points[4];
};

struct NPoints {
  int n;
  struct Point *points;
};

/* a + b */
FARCALL_EXPORT int add(int a, int b);

/* a - b, in float32 precision */
FARCALL_EXPORT float subtract(float a, float b);

/* a + b if do_addition, else a - b */
FARCALL_EXPORT double add_or_subtract(double a, double b, bool do_addition);

/* xout[i] = a * xin[i] for i < n */
FARCALL_EXPORT void scalar_multiply(double a, const double *xin, int n, double *xout);

/* writes the n characters of original, reversed, into the caller's buffer (no terminator added) */
FARCALL_EXPORT void reverse_string_v1(const char *original, int n, char *reversed);

/* returns original (n characters) reversed, in a NUL-terminated string allocated here:
 * release it with free_string() */
FARCALL_EXPORT char *reverse_string_v2(const char *original, int n);

/* releases a string returned by reverse_string_v2 */
FARCALL_EXPORT void free_string(char *s);

/* the perimeter of the closed polygon through the four points (unit square -> 4.0) */
FARCALL_EXPORT double distance_4_points(struct FourPoints p);

/* the perimeter of the closed polygon through the n points (0 when n < 2) */
FARCALL_EXPORT double distance_n_points(struct NPoints p);

/* a + b with the __stdcall convention on 32-bit Windows (the default convention elsewhere) */
FARCALL_EXPORT int FARCALL_STDCALL add_stdcall(int a, int b);

/* dereferences a null pointer: the process dies with SIGSEGV (an access violation on Windows) */
FARCALL_EXPORT int crash(void);

/* sleeps ms milliseconds, then returns ms */
FARCALL_EXPORT int sleep_ms(int ms);

/* sizeof(void *): 4 in a 32-bit library, 8 in a 64-bit one */
FARCALL_EXPORT int pointer_size(void);

#ifdef __cplusplus
}
#endif

#endif
