/* A PKCS#11 module for tests that adds PIN lockout in front of SoftHSM2.
 *
 * SoftHSM2 never locks a user PIN. This shim forwards every call to the module
 * named by the compile-time TARGET, except:
 *   C_Login (CKU_USER): after MAX_TRIES wrong PINs in a row it answers
 *     CKR_PIN_LOCKED (0xA4) without asking the token, like a card would;
 *   C_GetTokenInfo: reports CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED from the
 *     shim's counter (unless built with -DSILENT: cards that report nothing);
 *   C_Initialize / C_Finalize: tolerate a SoftHSM2 already initialised by the
 *     same process through its own path, and leave it initialised.
 * One counter for the whole process: use one token per shim build.
 * Build: gcc -shared -fPIC -DTARGET='"/usr/lib/softhsm/libsofthsm2.so"' -o shim.so lockout_shim.c -ldl
 */
#include <dlfcn.h>
#include <string.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef struct { unsigned char major, minor; } CK_VERSION;
typedef CK_RV (*fn_t)();
#define N_FUNCS 68 /* PKCS#11 v2.40 CK_FUNCTION_LIST: C_Initialize .. C_WaitForSlotEvent */
typedef struct { CK_VERSION version; fn_t f[N_FUNCS]; } CK_FUNCTION_LIST;
typedef CK_RV (*get_list_t)(CK_FUNCTION_LIST **);

#define I_INITIALIZE 0
#define I_FINALIZE 1
#define I_GET_TOKEN_INFO 6
#define I_LOGIN 18
#define CKU_USER 1UL
#define CKR_OK 0UL
#define CKR_PIN_INCORRECT 0xA0UL
#define CKR_PIN_LOCKED 0xA4UL
#define CKR_CRYPTOKI_ALREADY_INITIALIZED 0x191UL
#define CKF_USER_PIN_COUNT_LOW 0x00010000UL
#define CKF_USER_PIN_FINAL_TRY 0x00020000UL
#define CKF_USER_PIN_LOCKED 0x00040000UL
#define MAX_TRIES 3
#define FLAGS_OFFSET 96 /* label[32] manufacturerID[32] model[16] serialNumber[16] */

static CK_FUNCTION_LIST *real;
static CK_FUNCTION_LIST shim;
static int failures;

static CK_RV shim_initialize(void *args) {
    CK_RV rv = ((CK_RV (*)(void *))real->f[I_INITIALIZE])(args);
    return rv == CKR_CRYPTOKI_ALREADY_INITIALIZED ? CKR_OK : rv;
}

static CK_RV shim_finalize(void *reserved) { (void)reserved; return CKR_OK; }

static CK_RV shim_get_token_info(CK_ULONG slot, unsigned char *info) {
    CK_RV rv = ((CK_RV (*)(CK_ULONG, unsigned char *))real->f[I_GET_TOKEN_INFO])(slot, info);
    if (rv != CKR_OK) return rv;
    CK_ULONG *flags = (CK_ULONG *)(info + FLAGS_OFFSET);
    *flags &= ~(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
#ifndef SILENT
    if (failures >= MAX_TRIES) *flags |= CKF_USER_PIN_LOCKED;
    else if (failures == MAX_TRIES - 1) *flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
    else if (failures > 0) *flags |= CKF_USER_PIN_COUNT_LOW;
#endif
    return CKR_OK;
}

static CK_RV shim_login(CK_ULONG session, CK_ULONG user, unsigned char *pin, CK_ULONG len) {
    if (user == CKU_USER && failures >= MAX_TRIES) return CKR_PIN_LOCKED;
    CK_RV rv = ((CK_RV (*)(CK_ULONG, CK_ULONG, unsigned char *, CK_ULONG))real->f[I_LOGIN])(
        session, user, pin, len);
    if (user == CKU_USER) {
        if (rv == CKR_PIN_INCORRECT) failures++;
        else if (rv == CKR_OK) failures = 0;
    }
    return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST **out) {
    if (!real) {
        void *handle = dlopen(TARGET, RTLD_NOW | RTLD_LOCAL);
        if (!handle) return 0x5UL; /* CKR_GENERAL_ERROR */
        get_list_t get = (get_list_t)dlsym(handle, "C_GetFunctionList");
        if (!get || get(&real) != CKR_OK) return 0x5UL;
        memcpy(&shim, real, sizeof shim);
        shim.f[I_INITIALIZE] = (fn_t)shim_initialize;
        shim.f[I_FINALIZE] = (fn_t)shim_finalize;
        shim.f[I_GET_TOKEN_INFO] = (fn_t)shim_get_token_info;
        shim.f[I_LOGIN] = (fn_t)shim_login;
    }
    *out = &shim;
    return CKR_OK;
}
