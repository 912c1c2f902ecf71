/*
 * farcall_cpp.h — the C++ example library of examples/loadlib/cpp (32- and 64-bit).
 *
 * Every function has C linkage (extern "C"), so its symbol is its plain name: koffi (and any other FFI)
 * finds `add_int32`, not a mangled C++ name. The types use <stdint.h> widths, so a declaration reads the
 * same in 32- and 64-bit builds; only pointers (and size_t) change size.
 *
 * Build (what scripts/build-native.sh runs; -m32 for the 32-bit server, -m64 for mocked mode):
 *   g++ -m32 -shared -fPIC -O2 -Wall -Wextra -std=c++17 -o native/build/libfarcall_cpp-32.so native/cpp/farcall_cpp.cpp
 * Windows (MinGW), where EXPORT below becomes __declspec(dllexport):
 *   i686-w64-mingw32-g++ -shared -O2 -std=c++17 -static-libgcc -static-libstdc++ -o farcall_cpp-32.dll native/cpp/farcall_cpp.cpp
 */
#ifndef FARCALL_CPP_H
#define FARCALL_CPP_H

#include <stdbool.h>
#include <stdint.h>

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A point in the plane: 16 bytes, no padding, on every ABI. */
struct Vec2 {
  double x;
  double y;
};

/*
 * A labelled rectangle: a fixed-size char array, two nested structs and a fixed int array. Its layout
 * (alignment of `origin` after `label`) is what a wrapper must declare exactly.
 */
struct Box {
  char label[12];
  struct Vec2 origin;
  struct Vec2 size;
  int32_t tags[3];
};

/* Add and subtract, one pair per width: the argument and result types are the width named. */
EXPORT int8_t add_int8(int8_t a, int8_t b);
EXPORT int16_t add_int16(int16_t a, int16_t b);
EXPORT int32_t add_int32(int32_t a, int32_t b);
EXPORT int64_t add_int64(int64_t a, int64_t b);
EXPORT uint8_t add_uint8(uint8_t a, uint8_t b);
EXPORT uint16_t add_uint16(uint16_t a, uint16_t b);
EXPORT uint32_t add_uint32(uint32_t a, uint32_t b);
EXPORT uint64_t add_uint64(uint64_t a, uint64_t b);
EXPORT float add_float(float a, float b);
EXPORT double add_double(double a, double b);
EXPORT int8_t subtract_int8(int8_t a, int8_t b);
EXPORT int16_t subtract_int16(int16_t a, int16_t b);
EXPORT int32_t subtract_int32(int32_t a, int32_t b);
EXPORT int64_t subtract_int64(int64_t a, int64_t b);
EXPORT uint8_t subtract_uint8(uint8_t a, uint8_t b);
EXPORT uint16_t subtract_uint16(uint16_t a, uint16_t b);
EXPORT uint32_t subtract_uint32(uint32_t a, uint32_t b);
EXPORT uint64_t subtract_uint64(uint64_t a, uint64_t b);
EXPORT float subtract_float(float a, float b);
EXPORT double subtract_double(double a, double b);

/* a + b when add is true, else a - b. */
EXPORT double add_or_subtract(double a, double b, bool add);

/* values[i] *= factor for i < n: the caller's array is changed in place. */
EXPORT void scale_in_place(double factor, double *values, int32_t n);

/*
 * Writes `text` reversed (by UTF-8 code point) and NUL-terminated into the caller's `out`, which has room
 * for `capacity` bytes. Returns the number of bytes written without the NUL, or -1 (and writes nothing)
 * when `out` is too small.
 */
EXPORT int32_t reverse_into(const char *text, char *out, int32_t capacity);

/* `text` reversed (by UTF-8 code point) in a new heap string: release it with free_reversed(). */
EXPORT char *reverse_new(const char *text);

/* Releases a string reverse_new() returned (NULL is allowed). */
EXPORT void free_reversed(char *text);

/* The distance between two points, both passed by value. */
EXPORT double vec2_distance(struct Vec2 a, struct Vec2 b);

/* Moves the point `p` points to by (dx, dy): a struct by pointer, changed in place. */
EXPORT void vec2_translate(struct Vec2 *p, double dx, double dy);

/* The area of a box passed by value (nested structs and fixed arrays are copied into the call). */
EXPORT double box_area(struct Box box);

/* The sum of a box's tags, the box passed by pointer. */
EXPORT int32_t box_tag_sum(const struct Box *box);

/* The length of the closed path through four points (an array of structs): 4 for the unit square. */
EXPORT double perimeter_4(const struct Vec2 points[4]);

/*
 * Fills `*out` with the smallest box holding the n points: label "bounds", tags {n, 0, 0}.
 * Returns false (and leaves `*out` alone) when n < 1.
 */
EXPORT bool bounding_box(const struct Vec2 *points, int32_t n, struct Box *out);

#ifdef __cplusplus
}
#endif

#endif /* FARCALL_CPP_H */
