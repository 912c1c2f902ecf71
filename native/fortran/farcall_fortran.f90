! farcall_fortran.f90 — the Fortran example library of examples/loadlib/fortran (32- and 64-bit).
!
! It shows the two ways a Fortran library exports its procedures, and what a wrapper must know of each:
!   * bind(c, name='...'): the symbol is the name given, `value` arguments arrive by value, and the
!     kinds come from iso_c_binding: the procedure is declared like a C function;
!   * plain (no bind(c)): gfortran lower-cases the name and appends an underscore (`factorial_`), EVERY
!     argument is passed by reference, a default `logical` is 4 bytes (0 = false), and each
!     `character(len=*)` argument adds a hidden length argument (size_t, by value) after all the others.
!
! Build (what scripts/build-native.sh runs; -m32 for the 32-bit server, -m64 for mocked mode):
!   gfortran -m32 -shared -fPIC -O2 -Wall -Wno-attributes -o native/build/libfarcall_fortran-32.so native/fortran/farcall_fortran.f90
! The library links libgfortran.so.5: Debian's gfortran-multilib and libgfortran5:i386 provide the 32-bit one.
! Windows (MinGW): i686-w64-mingw32-gfortran -shared -O2 -static -o farcall_fortran-32.dll ...; the
! `!GCC$ ATTRIBUTES DLLEXPORT` lines export the procedures below (and nothing of the runtime). Elsewhere
! gfortran ignores them with a warning each, which -Wno-attributes silences.

! ---- bind(c): declared like C functions ------------------------------------------------------------------

function sum_int8(a, b) result(total) bind(c, name='sum_int8')
  use, intrinsic :: iso_c_binding, only: c_int8_t
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: sum_int8
  integer(c_int8_t), value :: a, b
  integer(c_int8_t) :: total
  total = a + b
end function sum_int8

function sum_int16(a, b) result(total) bind(c, name='sum_int16')
  use, intrinsic :: iso_c_binding, only: c_int16_t
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: sum_int16
  integer(c_int16_t), value :: a, b
  integer(c_int16_t) :: total
  total = a + b
end function sum_int16

function sum_int32(a, b) result(total) bind(c, name='sum_int32')
  use, intrinsic :: iso_c_binding, only: c_int32_t
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: sum_int32
  integer(c_int32_t), value :: a, b
  integer(c_int32_t) :: total
  total = a + b
end function sum_int32

function sum_int64(a, b) result(total) bind(c, name='sum_int64')
  use, intrinsic :: iso_c_binding, only: c_int64_t
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: sum_int64
  integer(c_int64_t), value :: a, b
  integer(c_int64_t) :: total
  total = a + b
end function sum_int64

function sum_real32(a, b) result(total) bind(c, name='sum_real32')
  use, intrinsic :: iso_c_binding, only: c_float
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: sum_real32
  real(c_float), value :: a, b
  real(c_float) :: total
  total = a + b
end function sum_real32

function sum_real64(a, b) result(total) bind(c, name='sum_real64')
  use, intrinsic :: iso_c_binding, only: c_double
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: sum_real64
  real(c_double), value :: a, b
  real(c_double) :: total
  total = a + b
end function sum_real64

! out(i) = a(i) + b(i) for i = 1..n: two input arrays, one output array the caller allocates.
subroutine add_arrays(a, b, out, n) bind(c, name='add_arrays')
  use, intrinsic :: iso_c_binding, only: c_double, c_int32_t
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: add_arrays
  integer(c_int32_t), value :: n
  real(c_double), intent(in) :: a(n), b(n)
  real(c_double), intent(out) :: out(n)
  out = a + b
end subroutine add_arrays

! out = a . b for a (ra x ca) and b (rb x cb), every matrix in column-major order (Fortran's).
! status: 0 on success; 1 when ca /= rb (out is then left alone), 2 when a dimension is negative.
subroutine matrix_product(a, ra, ca, b, rb, cb, out, status) bind(c, name='matrix_product')
  use, intrinsic :: iso_c_binding, only: c_double, c_int32_t
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: matrix_product
  integer(c_int32_t), value :: ra, ca, rb, cb
  real(c_double), intent(in) :: a(ra, ca), b(rb, cb)
  real(c_double), intent(inout) :: out(ra, cb)
  integer(c_int32_t), intent(out) :: status
  if (ra < 0 .or. ca < 0 .or. rb < 0 .or. cb < 0) then
    status = 2
  else if (ca /= rb) then
    status = 1
  else
    out = matmul(a, b)
    status = 0
  end if
end subroutine matrix_product

! ---- plain Fortran: every argument by reference, symbol name + '_' ---------------------------------------

! A default logical (4 bytes) by reference decides: a + b when add is .true., else a - b.
function add_or_subtract(a, b, add) result(total)
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: add_or_subtract
  integer :: a, b, total
  logical :: add
  if (add) then
    total = a + b
  else
    total = a - b
  end if
end function add_or_subtract

! A default logical result: .true. when x > 0 (returned as a 4-byte integer, 1 or 0).
function is_positive(x) result(positive)
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: is_positive
  double precision :: x
  logical :: positive
  positive = x > 0d0
end function is_positive

! n! as a double (exact up to 22!, finite up to 170!); -1 for a negative n.
function factorial(n) result(value)
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: factorial
  integer :: n, i
  double precision :: value
  if (n < 0) then
    value = -1d0
    return
  end if
  value = 1d0
  do i = 2, n
    value = value * i
  end do
end function factorial

! The sample standard deviation (n - 1 in the denominator) of the n values; 0 when n < 2.
function standard_deviation(values, n) result(deviation)
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: standard_deviation
  integer :: n
  double precision :: values(n), deviation, mean
  if (n < 2) then
    deviation = 0d0
    return
  end if
  mean = sum(values) / n
  deviation = sqrt(sum((values - mean)**2) / (n - 1))
end function standard_deviation

! The Bessel function of the first kind of order 0 (Fortran 2008's intrinsic bessel_j0).
function besselj0(x) result(value)
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: besselj0
  double precision :: x, value
  value = bessel_j0(x)
end function besselj0

! reversed = original backwards. Both are character(len=*): gfortran passes their lengths as two hidden
! size_t arguments after `reversed`, so the C signature is
!   void reverse_string_(const char *original, char *reversed, size_t original_len, size_t reversed_len)
! Fortran strings are blank-padded, not NUL-terminated: `reversed` gets len(original) characters, then blanks.
subroutine reverse_string(original, reversed)
  implicit none
  !GCC$ ATTRIBUTES DLLEXPORT :: reverse_string
  character(len=*), intent(in) :: original
  character(len=*), intent(out) :: reversed
  integer :: i, n
  n = len(original)
  reversed = ''
  do i = 1, min(n, len(reversed))
    reversed(i:i) = original(n - i + 1:n - i + 1)
  end do
end subroutine reverse_string
