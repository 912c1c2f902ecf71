// farcall_cpp.cpp — the C++ example library of examples/loadlib/cpp (see farcall_cpp.h for the build).
// C++ inside, C linkage outside: templates write the arithmetic once, extern "C" wrappers export it.
#include "farcall_cpp.h"

#include <cmath>
#include <cstring>

namespace {

template <typename T> T add(T a, T b) { return static_cast<T>(a + b); }
template <typename T> T subtract(T a, T b) { return static_cast<T>(a - b); }

// True for the bytes that continue a UTF-8 sequence (10xxxxxx).
bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// Copies `text` (length n) into `out` reversed by code point; `out` holds at least n bytes.
void reverse_utf8(const char *text, size_t n, char *out) {
  size_t end = n;
  size_t written = 0;
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && is_continuation(static_cast<unsigned char>(text[start]))) start--;
    std::memcpy(out + written, text + start, end - start);
    written += end - start;
    end = start;
  }
}

}  // namespace

extern "C" {

#define FARCALL_ADD_SUBTRACT(name, type)                                      \
  type add_##name(type a, type b) { return add<type>(a, b); }                 \
  type subtract_##name(type a, type b) { return subtract<type>(a, b); }

FARCALL_ADD_SUBTRACT(int8, int8_t)
FARCALL_ADD_SUBTRACT(int16, int16_t)
FARCALL_ADD_SUBTRACT(int32, int32_t)
FARCALL_ADD_SUBTRACT(int64, int64_t)
FARCALL_ADD_SUBTRACT(uint8, uint8_t)
FARCALL_ADD_SUBTRACT(uint16, uint16_t)
FARCALL_ADD_SUBTRACT(uint32, uint32_t)
FARCALL_ADD_SUBTRACT(uint64, uint64_t)
FARCALL_ADD_SUBTRACT(float, float)
FARCALL_ADD_SUBTRACT(double, double)

double add_or_subtract(double a, double b, bool add) { return add ? a + b : a - b; }

void scale_in_place(double factor, double *values, int32_t n) {
  for (int32_t i = 0; i < n; i++) values[i] *= factor;
}

int32_t reverse_into(const char *text, char *out, int32_t capacity) {
  size_t n = std::strlen(text);
  if (capacity < 0 || n + 1 > static_cast<size_t>(capacity)) return -1;
  reverse_utf8(text, n, out);
  out[n] = '\0';
  return static_cast<int32_t>(n);
}

char *reverse_new(const char *text) {
  size_t n = std::strlen(text);
  char *out = new char[n + 1];
  reverse_utf8(text, n, out);
  out[n] = '\0';
  return out;
}

void free_reversed(char *text) { delete[] text; }

double vec2_distance(Vec2 a, Vec2 b) { return std::hypot(a.x - b.x, a.y - b.y); }

void vec2_translate(Vec2 *p, double dx, double dy) {
  p->x += dx;
  p->y += dy;
}

double box_area(Box box) { return box.size.x * box.size.y; }

int32_t box_tag_sum(const Box *box) { return box->tags[0] + box->tags[1] + box->tags[2]; }

double perimeter_4(const Vec2 points[4]) {
  double total = 0;
  for (int i = 0; i < 4; i++) total += vec2_distance(points[i], points[(i + 1) % 4]);
  return total;
}

bool bounding_box(const Vec2 *points, int32_t n, Box *out) {
  if (n < 1) return false;
  Vec2 low = points[0];
  Vec2 high = points[0];
  for (int32_t i = 1; i < n; i++) {
    low.x = std::fmin(low.x, points[i].x);
    low.y = std::fmin(low.y, points[i].y);
    high.x = std::fmax(high.x, points[i].x);
    high.y = std::fmax(high.y, points[i].y);
  }
  Box box{};
  std::strncpy(box.label, "bounds", sizeof box.label - 1);
  box.origin = low;
  box.size = Vec2{high.x - low.x, high.y - low.y};
  box.tags[0] = n;
  *out = box;
  return true;
}

}  // extern "C"
