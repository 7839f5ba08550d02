/* A test shim for Wine 8.0 only, never shipped: Rust's std (1.78 and later) takes its random
 * numbers from ProcessPrng in bcryptprimitives.dll, which Wine 8.0 does not have. Placed beside
 * the exe under test, this DLL answers with RtlGenRandom (advapi32's SystemFunction036), which
 * Wine has. Windows 10/11 have the real DLL in System32. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
