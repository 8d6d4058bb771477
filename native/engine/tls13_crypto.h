// The crypto of a TLS 1.3 record layer (RFC 8446 5.2, 5.3, 7.1, 7.3) on
// OpenSSL's EVP: traffic keys from a traffic secret (HKDF-Expand-Label), the
// per-record nonce, and AEAD sealing and opening of one record. What a
// control connection keeps once its SSL is freed (tls13_records.h).
#ifndef MUXFTPD_ENGINE_TLS13_CRYPTO_H_
#define MUXFTPD_ENGINE_TLS13_CRYPTO_H_

#include <cstddef>
#include <cstdint>

namespace muxftpd::tls13 {

// The TLS 1.3 cipher suites (their IANA numbers) the record layer handles:
// every one OpenSSL enables by default.
enum class Suite : uint16_t {
  kAes128GcmSha256 = 0x1301,
  kAes256GcmSha384 = 0x1302,
  kChaCha20Poly1305Sha256 = 0x1303,
};

// Whether `protocol_id` (SSL_CIPHER_get_protocol_id) is one of them.
bool IsSuite(uint16_t protocol_id);
// The suite's hash length: the length of its traffic secrets.
size_t SecretLength(Suite suite);

constexpr size_t kMaxSecret = 48;  // SHA-384
constexpr size_t kMaxKey = 32;
constexpr size_t kIvLength = 12;   // every suite's nonce (RFC 8446 5.3)
constexpr size_t kTagLength = 16;  // every suite's AEAD tag
constexpr size_t kHeaderLength = 5;
// RFC 8446 5.1, 5.2: TLSPlaintext.fragment, TLSInnerPlaintext (with the
// content type) and TLSCiphertext.encrypted_record at most.
constexpr size_t kMaxPlaintext = 1 << 14;
constexpr size_t kMaxInner = kMaxPlaintext + 1;
constexpr size_t kMaxCiphertext = kMaxPlaintext + 256;

// One direction's traffic secret, the key and iv made from it, and the
// sequence number of its next record.
struct Direction {
  uint8_t secret[kMaxSecret] = {};
  uint8_t key[kMaxKey] = {};
  uint8_t iv[kIvLength] = {};
  uint64_t seq = 0;

  ~Direction();  // the secrets are wiped
};

// key and iv from `d->secret` (RFC 8446 7.3); seq is left as it is.
bool DeriveKeys(Suite suite, Direction* d);
// The next generation of the secret (RFC 8446 7.2, "traffic upd"), its
// keys, and seq back to 0 (RFC 8446 4.6.3).
bool UpdateSecret(Suite suite, Direction* d);

// Seals `record` in place: on entry record[5, 5 + inner_len) is the
// TLSInnerPlaintext (data, content type); on success the header is written
// in front and the tag after, kHeaderLength + inner_len + kTagLength bytes in
// all, and d->seq is advanced. inner_len <= kMaxInner.
bool Seal(Suite suite, Direction* d, uint8_t* record, size_t inner_len);
// Opens `body` in place (body_len bytes after the 5-byte `header`, which
// is the AAD): on success body[0, body_len - kTagLength) is the
// TLSInnerPlaintext and d->seq is advanced. false on a bad tag (nothing of
// the plain text may be used then). kTagLength < body_len <= kMaxCiphertext.
bool Open(Suite suite, Direction* d, const uint8_t* header, uint8_t* body, size_t body_len);

}  // namespace muxftpd::tls13

#endif  // MUXFTPD_ENGINE_TLS13_CRYPTO_H_
