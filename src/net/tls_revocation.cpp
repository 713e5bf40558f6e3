// TlsContext's revocation side: loading the CRLs (--crl) with the checks mbedTLS leaves to
// us, the stale-CRL gauge, and the re-check of an already connected node's certificate.
#include <mbedtls/md.h>
#include <mbedtls/x509.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "net/peer_identity.hpp"
#include "net/tls_context.hpp"

namespace bsc {
namespace {

// 0 when the field is absent (mbedTLS leaves it all zero).
int64_t unix_time(const mbedtls_x509_time& t) {
  if (t.year == 0) return 0;
  std::tm tm{};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.mon - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.min;
  tm.tm_sec = t.sec;
  return int64_t(timegm(&tm));
}

std::string name_text(const mbedtls_x509_name& name) {
  char buf[512];
  int n = mbedtls_x509_dn_gets(buf, sizeof buf, &name);
  return n < 0 ? "(unprintable name)" : std::string(buf, size_t(n));
}

bool same_bytes(const mbedtls_x509_buf& a, const mbedtls_x509_buf& b) {
  return a.len == b.len && a.len > 0 && std::memcmp(a.p, b.p, a.len) == 0;
}

// mbedTLS verifies a CRL's signature only while checking a certificate, and then marks every
// certificate of that CA as failing (BADCRL_NOT_TRUSTED): a wrong file would lock the site
// out. So the hub checks it at load time the same way: hash the signed part, verify with the
// CA's key.
bool crl_signed_by(const mbedtls_x509_crl& crl, const mbedtls_x509_crt& ca) {
  const mbedtls_md_type_t md_type = crl.MBEDTLS_PRIVATE(sig_md);
  const mbedtls_md_info_t* md = mbedtls_md_info_from_type(md_type);
  unsigned char hash[MBEDTLS_MD_MAX_SIZE];
  if (md == nullptr || mbedtls_md(md, crl.tbs.p, crl.tbs.len, hash) != 0) return false;
  return mbedtls_pk_verify_ext(crl.MBEDTLS_PRIVATE(sig_pk), crl.MBEDTLS_PRIVATE(sig_opts),
                               const_cast<mbedtls_pk_context*>(&ca.pk), md_type, hash,
                               mbedtls_md_get_size(md), crl.MBEDTLS_PRIVATE(sig).p,
                               crl.MBEDTLS_PRIVATE(sig).len) == 0;
}

size_t revoked_count(const mbedtls_x509_crl& crl) {
  size_t n = 0;
  for (const mbedtls_x509_crl_entry* e = &crl.entry; e != nullptr && e->serial.len > 0;
       e = e->next)
    ++n;
  return n;
}

// Checks each CRL of `chain` (one file's) against the CAs of `ca`; appends their CrlInfo.
bool check_file_crls(const std::string& file, const mbedtls_x509_crl& chain,
                     const mbedtls_x509_crt& ca, std::vector<CrlInfo>* out, std::string* error) {
  for (const mbedtls_x509_crl* crl = &chain; crl != nullptr && crl->version != 0;
       crl = crl->next) {
    const std::string issuer = name_text(crl->issuer);
    bool issuer_known = false, may_sign = false, signed_ok = false;
    // Several CAs may share a subject (a CA renewed with a new key): any one that signed it.
    for (const mbedtls_x509_crt* c = &ca; c != nullptr && c->raw.len > 0; c = c->next) {
      if (!same_bytes(c->subject_raw, crl->issuer_raw)) continue;
      issuer_known = true;
      if (mbedtls_x509_crt_check_key_usage(c, MBEDTLS_X509_KU_CRL_SIGN) != 0) continue;
      may_sign = true;
      if (crl_signed_by(*crl, *c)) {
        signed_ok = true;
        break;
      }
    }
    if (!issuer_known) {
      *error = "CRL " + file + " is issued by " + issuer + ", which is not one of the --ca "
               "certificates";
      return false;
    }
    if (!may_sign) {
      *error = "CRL " + file + " is issued by " + issuer + ", whose CA certificate's key "
               "usage does not allow signing CRLs (cRLSign)";
      return false;
    }
    if (!signed_ok) {
      *error = "CRL " + file + " names " + issuer + " as issuer but its signature does not "
               "verify with that CA's key";
      return false;
    }
    out->push_back({file, issuer, unix_time(crl->next_update), revoked_count(*crl)});
  }
  return true;
}

}  // namespace

bool TlsContext::load_crls(const std::vector<std::string>& files, std::string* error) {
  for (const std::string& file : files) {
    // Parsed and checked on its own first, so that the message can name the file.
    mbedtls_x509_crl one;
    mbedtls_x509_crl_init(&one);
    int rc = mbedtls_x509_crl_parse_file(&one, file.c_str());  // PEM (one or more) or DER
    bool ok = rc == 0;
    if (rc == MBEDTLS_ERR_X509_FILE_IO_ERROR || rc == MBEDTLS_ERR_PK_FILE_IO_ERROR) {
      *error = "cannot read CRL " + file;
    } else if (rc != 0) {
      *error = "bad CRL " + file + " (neither a PEM nor a DER X.509 CRL): " +
               tls_error_text(rc);
    } else {
      ok = check_file_crls(file, one, ca_, &crl_info_, error);
    }
    mbedtls_x509_crl_free(&one);
    if (!ok) return false;
    if ((rc = mbedtls_x509_crl_parse_file(&crl_, file.c_str())) != 0) {
      *error = "bad CRL " + file + ": " + tls_error_text(rc);
      return false;
    }
  }
  return true;
}

const mbedtls_x509_crl* TlsContext::revoked_by(const mbedtls_x509_crt& crt) const {
  const mbedtls_x509_crl* crl = crl_info_.empty() ? nullptr : &crl_;
  for (; crl != nullptr && crl->version != 0; crl = crl->next)
    if (same_bytes(crl->issuer_raw, crt.issuer_raw) && mbedtls_x509_crt_is_revoked(&crt, crl))
      return crl;
  return nullptr;
}

size_t TlsContext::stale_crls() const {
  const int64_t now = int64_t(std::time(nullptr));
  size_t n = 0;
  for (const CrlInfo& c : crl_info_) n += c.stale(now) ? 1 : 0;
  return n;
}

namespace {

// mbedtls_x509_crt_verify callback: the stale-CRL policy, as in TlsSession::on_verify.
int ignore_stale_crls(void*, mbedtls_x509_crt*, int, uint32_t* flags) {
  *flags &= ~kStaleCrlFlags;
  return 0;
}

}  // namespace

std::string TlsContext::recheck(const PeerIdentity& id) const {
  if (!id.der || id.der->empty()) return "no certificate to re-check";
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  struct Free {
    mbedtls_x509_crt* c;
    ~Free() { mbedtls_x509_crt_free(c); }
  } free_crt{&crt};
  if (mbedtls_x509_crt_parse_der(&crt, id.der->data(), id.der->size()) != 0)
    return "certificate cannot be parsed";

  const mbedtls_x509_crt* issuer = nullptr;
  for (const mbedtls_x509_crt* c = &ca_; c != nullptr && c->raw.len > 0; c = c->next)
    if (sha256_fingerprint(c->raw) == id.issuer_ca) {
      issuer = c;
      break;
    }

  if (issuer != nullptr) {
    // Same CA as at the handshake: its signature on the certificate still holds.
    if (mbedtls_x509_time_is_past(&crt.valid_to)) return "certificate expired";
    if (mbedtls_x509_time_is_future(&crt.valid_from)) return "certificate not yet valid";
    if (const mbedtls_x509_crl* crl = revoked_by(crt))
      return "revoked by CRL of " + name_text(crl->issuer);
    return "";
  }

  // The CA is gone (or was never ours): the certificate must chain to one we have now.
  uint32_t flags = 0;
  int rc = mbedtls_x509_crt_verify(&crt, const_cast<mbedtls_x509_crt*>(&ca_),
                                   crl_info_.empty() ? nullptr
                                                     : const_cast<mbedtls_x509_crl*>(&crl_),
                                   nullptr, &flags, ignore_stale_crls, nullptr);
  flags &= ~kStaleCrlFlags;
  if (rc != 0 && rc != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
    return "certificate cannot be verified: " + tls_error_text(rc);
  if (flags == 0) return "";
  if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) return "no longer issued by a configured CA";
  if (flags & MBEDTLS_X509_BADCERT_REVOKED) return "revoked by CRL of " + name_text(crt.issuer);
  if (flags & MBEDTLS_X509_BADCERT_EXPIRED) return "certificate expired";
  if (flags & MBEDTLS_X509_BADCERT_FUTURE) return "certificate not yet valid";
  char info[256];
  mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
  std::string text = info;
  for (char& ch : text)
    if (ch == '\n') ch = ';';
  return "certificate rejected: " + text;
}

}  // namespace bsc
