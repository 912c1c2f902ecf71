/* farcall_example.c — see farcall_example.h for the contract. */
#include "farcall_example.h"

#include <math.h>
#include <stdlib.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <time.h>
#endif

int add(int a, int b) { return a + b; }

float subtract(float a, float b) { return a - b; }

double add_or_subtract(double a, double b, bool do_addition) { return do_addition ? a + b : a - b; }

void scalar_multiply(double a, const double *xin, int n, double *xout) {
  for (int i = 0; i < n; i++) xout[i] = a * xin[i];
}

void reverse_string_v1(const char *original, int n, char *reversed) {
  for (int i = 0; i < n; i++) reversed[i] = original[n - i - 1];
}

char *reverse_string_v2(const char *original, int n) {
  char *reversed = malloc((size_t)n + 1);
  if (reversed == NULL) return NULL;
  reverse_string_v1(original, n, reversed);
  reversed[n] = '\0';
  return reversed;
}

void free_string(char *s) { free(s); }

static double distance(struct Point a, struct Point b) { return hypot(a.x - b.x, a.y - b.y); }

static double perimeter(const struct Point *points, int n) {
  if (n < 2) return 0.0;
  double d = distance(points[0], points[n - 1]);
  for (int i = 1; i < n; i++) d += distance(points[i], points[i - 1]);
  return d;
}

double distance_4_points(struct FourPoints p) { return perimeter(p.points, 4); }

double distance_n_points(struct NPoints p) { return perimeter(p.points, p.n); }

int FARCALL_STDCALL add_stdcall(int a, int b) { return a + b; }

int crash(void) {
  /* volatile: the compiler may not remove the write or turn it into a trap of its choosing */
  volatile int *volatile nowhere = NULL;
  *nowhere = 1;
  return *nowhere;
}

int sleep_ms(int ms) {
#if defined(_WIN32)
  Sleep((DWORD)ms);
#else
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
#endif
  return ms;
}

int pointer_size(void) { return (int)sizeof(void *); }
