#include "tls13_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstring>
#include <memory>

namespace muxftpd::tls13 {

namespace {

struct Algorithms {
  const EVP_CIPHER* cipher;  // null when the provider lacks it (a FIPS build without ChaCha20)
  const char* digest;
  size_t key_length;
  size_t secret_length;
};

// Fetched once for the process (fetching is thread-safe, and an explicit
// fetch spares each record the implicit look-up EVP_aes_128_gcm() costs).
// Never freed: they live as long as OpenSSL's default provider does.
const EVP_CIPHER* Fetch(const char* name) { return EVP_CIPHER_fetch(nullptr, name, nullptr); }

const Algorithms& AlgorithmsOf(Suite suite) {
  switch (suite) {
    case Suite::kAes256GcmSha384: {
      static const Algorithms a{Fetch("AES-256-GCM"), "SHA384", 32, 48};
      return a;
    }
    case Suite::kChaCha20Poly1305Sha256: {
      static const Algorithms a{Fetch("ChaCha20-Poly1305"), "SHA256", 32, 32};
      return a;
    }
    case Suite::kAes128GcmSha256: break;
  }
  static const Algorithms a{Fetch("AES-128-GCM"), "SHA256", 16, 32};
  return a;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

// One cipher context per thread, keyed again for every record: a session
// keeps 60-odd bytes of keys instead of a context of its own.
EVP_CIPHER_CTX* ThreadCipher() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

// RFC 8446 5.3: the 64-bit sequence number, big-endian, left-padded with
// zeros to the iv's length, XORed with the iv.
void Nonce(const Direction& d, uint8_t out[kIvLength]) {
  std::memcpy(out, d.iv, kIvLength);
  for (size_t i = 0; i < 8; ++i) out[kIvLength - 1 - i] ^= static_cast<uint8_t>(d.seq >> (8 * i));
}

// HKDF-Expand-Label(secret, label, "", out_len) (RFC 8446 7.1).
bool ExpandLabel(const Algorithms& a, const uint8_t* secret, const char* label, uint8_t* out, size_t out_len) {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  static constexpr char kPrefix[] = "tls13 ";
  size_t label_len = std::strlen(label);
  // struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel
  uint8_t info[2 + 1 + 255 + 1];
  size_t full = sizeof kPrefix - 1 + label_len;
  if (kdf == nullptr || full > 255 || out_len > 0xffff) return false;
  size_t i = 0;
  info[i++] = static_cast<uint8_t>(out_len >> 8);
  info[i++] = static_cast<uint8_t>(out_len);
  info[i++] = static_cast<uint8_t>(full);
  std::memcpy(info + i, kPrefix, sizeof kPrefix - 1);
  i += sizeof kPrefix - 1;
  std::memcpy(info + i, label, label_len);
  i += label_len;
  info[i++] = 0;  // an empty context
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf));
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(a.digest), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret), a.secret_length),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, i),
      OSSL_PARAM_construct_end(),
  };
  bool ok = ctx && EVP_KDF_derive(ctx.get(), out, out_len, params) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace

Direction::~Direction() {
  OPENSSL_cleanse(secret, sizeof secret);
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(iv, sizeof iv);
}

bool IsSuite(uint16_t protocol_id) {
  switch (static_cast<Suite>(protocol_id)) {
    case Suite::kAes128GcmSha256:
    case Suite::kAes256GcmSha384:
    case Suite::kChaCha20Poly1305Sha256: return AlgorithmsOf(static_cast<Suite>(protocol_id)).cipher != nullptr;
  }
  return false;
}

size_t SecretLength(Suite suite) { return AlgorithmsOf(suite).secret_length; }

bool DeriveKeys(Suite suite, Direction* d) {
  const Algorithms& a = AlgorithmsOf(suite);
  return ExpandLabel(a, d->secret, "key", d->key, a.key_length) &&
         ExpandLabel(a, d->secret, "iv", d->iv, kIvLength);
}

bool UpdateSecret(Suite suite, Direction* d) {
  const Algorithms& a = AlgorithmsOf(suite);
  uint8_t next[kMaxSecret];
  bool ok = ExpandLabel(a, d->secret, "traffic upd", next, a.secret_length);
  if (ok) std::memcpy(d->secret, next, a.secret_length);
  OPENSSL_cleanse(next, sizeof next);
  d->seq = 0;
  return ok && DeriveKeys(suite, d);
}

bool Seal(Suite suite, Direction* d, uint8_t* record, size_t inner_len) {
  const Algorithms& a = AlgorithmsOf(suite);
  EVP_CIPHER_CTX* c = ThreadCipher();
  // A sequence number must never wrap (RFC 8446 5.3): the nonce would repeat.
  if (a.cipher == nullptr || c == nullptr || inner_len == 0 || inner_len > kMaxInner || d->seq == UINT64_MAX) {
    return false;
  }
  size_t body_len = inner_len + kTagLength;
  record[0] = 23;  // application_data: the outer type of every protected record
  record[1] = 3;
  record[2] = 3;
  record[3] = static_cast<uint8_t>(body_len >> 8);
  record[4] = static_cast<uint8_t>(body_len);
  uint8_t nonce[kIvLength];
  Nonce(*d, nonce);
  uint8_t* p = record + kHeaderLength;
  int n = 0;
  bool ok = EVP_EncryptInit_ex2(c, a.cipher, d->key, nonce, nullptr) == 1 &&
            EVP_EncryptUpdate(c, nullptr, &n, record, kHeaderLength) == 1 &&
            EVP_EncryptUpdate(c, p, &n, p, static_cast<int>(inner_len)) == 1 && n == static_cast<int>(inner_len) &&
            EVP_EncryptFinal_ex(c, p + inner_len, &n) == 1 && n == 0 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kTagLength, p + inner_len) == 1;
  if (!ok) {
    ERR_clear_error();
    return false;
  }
  ++d->seq;
  return true;
}

bool Open(Suite suite, Direction* d, const uint8_t* header, uint8_t* body, size_t body_len) {
  const Algorithms& a = AlgorithmsOf(suite);
  EVP_CIPHER_CTX* c = ThreadCipher();
  if (a.cipher == nullptr || c == nullptr || body_len <= kTagLength || body_len > kMaxCiphertext ||
      d->seq == UINT64_MAX) {
    return false;
  }
  size_t len = body_len - kTagLength;
  uint8_t nonce[kIvLength];
  Nonce(*d, nonce);
  uint8_t none[16];
  int n = 0;
  bool ok = EVP_DecryptInit_ex2(c, a.cipher, d->key, nonce, nullptr) == 1 &&
            EVP_DecryptUpdate(c, nullptr, &n, header, kHeaderLength) == 1 &&
            EVP_DecryptUpdate(c, body, &n, body, static_cast<int>(len)) == 1 && n == static_cast<int>(len) &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kTagLength, body + len) == 1 &&
            EVP_DecryptFinal_ex(c, none, &n) == 1 && n == 0;
  if (!ok) {
    ERR_clear_error();
    return false;
  }
  ++d->seq;
  return true;
}

}  // namespace muxftpd::tls13
