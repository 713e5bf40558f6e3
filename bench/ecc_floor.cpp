// The ECC floor of a hub handshake on this machine: what mbedTLS's P-256 operations cost one
// core, timed by the thread's CPU clock (a busy machine inflates it no more than it inflates
// the hub's own CPU time). A full mutual-TLS 1.3 handshake does 1 ECDSA sign (the hub's
// CertificateVerify), 1-2 verifies (the node's CertificateVerify; the CA's signature on a
// certificate not seen before) and 1 ECDHE (key generation + shared secret); a resumed one
// only the ECDHE. bench/restart_storm.py reads the one line this prints:
//   ecc_floor sign_us=254 verify_us=864 ecdhe_us=784
//   build/bench/ecc_floor [ROUNDS]      (default 300; the lowest of 3 runs of ROUNDS each)
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace {

double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// Microseconds per call of `op`, the lowest of three runs of `rounds` calls.
template <class Op>
double per_call_us(int rounds, Op op) {
  double best = 1e9;
  for (int run = 0; run < 3; ++run) {
    const double t0 = cpu_seconds();
    for (int i = 0; i < rounds; ++i)
      if (!op()) {
        std::fprintf(stderr, "ecc_floor: an mbedTLS call failed\n");
        std::exit(1);
      }
    best = std::min(best, (cpu_seconds() - t0) / rounds * 1e6);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 300;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0) != 0) return 1;

  mbedtls_ecdsa_context key;
  mbedtls_ecdsa_init(&key);
  if (mbedtls_ecdsa_genkey(&key, MBEDTLS_ECP_DP_SECP256R1, mbedtls_ctr_drbg_random, &drbg) != 0)
    return 1;
  unsigned char digest[32] = {0x42};
  unsigned char sig[MBEDTLS_ECDSA_MAX_LEN];
  size_t sig_len = 0;
  const double sign = per_call_us(rounds, [&] {
    return mbedtls_ecdsa_write_signature(&key, MBEDTLS_MD_SHA256, digest, sizeof digest, sig,
                                         sizeof sig, &sig_len, mbedtls_ctr_drbg_random,
                                         &drbg) == 0;
  });
  const double verify = per_call_us(rounds, [&] {
    return mbedtls_ecdsa_read_signature(&key, digest, sizeof digest, sig, sig_len) == 0;
  });

  // The hub's side of an ECDHE: a fresh key pair, then the secret with the peer's share.
  mbedtls_ecp_group grp;
  mbedtls_ecp_group_init(&grp);
  mbedtls_mpi peer_d, d, z;
  mbedtls_ecp_point peer_q, q;
  mbedtls_mpi_init(&peer_d);
  mbedtls_mpi_init(&d);
  mbedtls_mpi_init(&z);
  mbedtls_ecp_point_init(&peer_q);
  mbedtls_ecp_point_init(&q);
  if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
      mbedtls_ecdh_gen_public(&grp, &peer_d, &peer_q, mbedtls_ctr_drbg_random, &drbg) != 0)
    return 1;
  const double ecdhe = per_call_us(rounds, [&] {
    return mbedtls_ecdh_gen_public(&grp, &d, &q, mbedtls_ctr_drbg_random, &drbg) == 0 &&
           mbedtls_ecdh_compute_shared(&grp, &z, &peer_q, &d, mbedtls_ctr_drbg_random,
                                       &drbg) == 0;
  });

  std::printf("ecc_floor sign_us=%.0f verify_us=%.0f ecdhe_us=%.0f\n", sign, verify, ecdhe);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_point_free(&peer_q);
  mbedtls_mpi_free(&z);
  mbedtls_mpi_free(&d);
  mbedtls_mpi_free(&peer_d);
  mbedtls_ecp_group_free(&grp);
  mbedtls_ecdsa_free(&key);
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  return 0;
}
