/* farcall_hresult.c — __stdcall functions that return an HRESULT, for LoadLibrary's 'oledll' libtype
 * (msl-loadlib's OleDLL): a failure code (negative) must become an error with the code and its message. */
#include <windows.h>

/* S_OK when value >= 0, else E_INVALIDARG; writes value * 2 into *doubled. */
__declspec(dllexport) HRESULT __stdcall hr_double(int value, int *doubled) {
  if (value < 0) return E_INVALIDARG;
  *doubled = value * 2;
  return S_OK;
}

/* Always E_FAIL ("Unspecified error"). */
__declspec(dllexport) HRESULT __stdcall hr_fail(void) { return E_FAIL; }

/* Returns the HRESULT it is given: S_FALSE (1) is a success, 0x80070005 (E_ACCESSDENIED) a failure. */
__declspec(dllexport) HRESULT __stdcall hr_echo(HRESULT code) { return code; }
