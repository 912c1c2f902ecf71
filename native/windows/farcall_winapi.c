/* farcall_winapi.c — a DLL that calls into kernel32 itself, and returns wide strings, for the Windows
 * tests: the local time as the Win32 API gives it, and the folder the DLL was loaded from (a Unicode path
 * survives the round trip only if every layer uses the wide API). */
#include <windows.h>

__declspec(dllexport) int __stdcall local_year(void) {
  SYSTEMTIME t;
  GetLocalTime(&t);
  return t.wYear;
}

/* The full path of this DLL, as UTF-16, into buffer (n wide characters); returns its length. */
__declspec(dllexport) int __stdcall own_path(wchar_t *buffer, int n) {
  HMODULE self = NULL;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                     (LPCWSTR)(void *)&own_path, &self);
  return (int)GetModuleFileNameW(self, buffer, (DWORD)n);
}
