"""Cost classes of a bschub handshake profile (docs/handshake-profile.md), shared by
bench/callgrind_split.py (instruction counts) and bench/perf_split.py (sampled CPU time).

A profile walks call stacks from the root to the sampled function. Entering certain
functions sets the context the callees run in:
  - an ECC operation (ECDSA sign, ECDSA verify, ECDHE key generation or shared secret)
    absorbs everything below it, its malloc included: that is what bench/ecc_floor.cpp measures;
  - symmetric crypto (hashing, HKDF, HMAC, AEAD) and X.509 parsing take what runs below
    them unless an ECC operation starts there;
  - our files that have a job of their own (ticket sealing, peer identity, history, ...)
    take what runs below them (their own hashing or parsing included), ECC excepted.
malloc/free is a class of its own outside ECC. Outside any context a function's own cost
goes to its library (mbedTLS bookkeeping, libc, libuv, the kernel's system call) or to our
source file."""
import re

ECC_SIGN = "ECDSA sign (CertificateVerify)"
ECC_VERIFY_CA = "ECDSA verify: CA signature on the node certificate"
ECC_VERIFY_CV = "ECDSA verify: node CertificateVerify"
ECC_KEYGEN = "ECDHE: key generation"
ECC_SHARED = "ECDHE: shared secret"
ECC = (ECC_SIGN, ECC_VERIFY_CA, ECC_VERIFY_CV, ECC_KEYGEN, ECC_SHARED)
SYMMETRIC = "hash / HKDF / HMAC / AEAD"
X509_PARSE = "X.509 parse/free"
X509_CHAIN = "X.509 chain check (without the signature)"
MALLOC_CLASS = "malloc/free (outside ECC)"

_ENTRY = [
    (r"^(mbedtls_x509_crt_verify|mbedtls_ssl_verify_certificate)", X509_CHAIN),
    (r"^(mbedtls_pk_verify|mbedtls_ecdsa_read_signature|mbedtls_ecdsa_verify|psa_verify_hash"
     r"|mbedtls_psa_ecdsa_verify)", "VERIFY"),
    (r"^(mbedtls_pk_sign|mbedtls_ecdsa_write_signature|mbedtls_ecdsa_sign|psa_sign_hash"
     r"|mbedtls_psa_ecdsa_sign)", ECC_SIGN),
    (r"^(psa_raw_key_agreement|psa_key_derivation_key_agreement|mbedtls_ecdh_compute_shared"
     r"|mbedtls_ecdh_calc_secret|mbedtls_psa_key_agreement_ecdh)", ECC_SHARED),
    (r"^(psa_generate_key|psa_export_public_key|mbedtls_ecp_gen_key|mbedtls_ecdh_gen_public"
     r"|mbedtls_psa_ecp_generate_key)", ECC_KEYGEN),
    (r"^(mbedtls_x509_crt_parse|mbedtls_x509_get|mbedtls_pk_parse|mbedtls_asn1_get"
     r"|mbedtls_x509_crt_free|mbedtls_pk_free|mbedtls_x509_crt_init)", X509_PARSE),
    (r"^(mbedtls_sha|mbedtls_md|psa_hash|mbedtls_psa_hash|psa_mac|mbedtls_psa_mac|mbedtls_hmac"
     r"|mbedtls_hkdf|psa_key_derivation|mbedtls_ssl_tls13_hkdf|mbedtls_ssl_tls13_derive"
     r"|mbedtls_ssl_tls13_evolve|mbedtls_ssl_tls13_create_psk_binder"
     r"|mbedtls_ssl_tls13_calculate_verify_data|mbedtls_ssl_tls13_compute_.*secret"
     r"|mbedtls_ssl_tls13_key_schedule_stage|mbedtls_ssl_get_handshake_transcript"
     r"|mbedtls_ssl_add_hs_msg_to_checksum|mbedtls_ssl_reset_checksum|mbedtls_gcm|mbedtls_chacha"
     r"|mbedtls_poly1305|mbedtls_aes|mbedtls_cipher|psa_aead|mbedtls_psa_aead|psa_cipher"
     r"|mbedtls_ccm|mbedtls_ssl_encrypt_buf|mbedtls_ssl_decrypt_buf)", SYMMETRIC),
]
_ENTRY = [(re.compile(p), c) for p, c in _ENTRY]

# Our parts with a job of their own: (source file name part, symbol pattern, class).
_OURS = [
    ("ticket_sealer", r"TicketSealer|TicketKey", "ours: ticket seal/open (net/ticket_sealer)"),
    ("peer_identity", r"PeerIdentity|peer_identity|[Ff]ingerprint",
     "ours: peer identity, fingerprints (net/peer_identity)"),
    ("access_control", r"AccessControl", "ours: access control (core/access_control)"),
    ("connection_history", r"ConnectionHistory|publish_history|GatheredHistory",
     "ours: connection history (core/connection_history, Worker::publish_history)"),
    ("state_sink", r"StateSink", "ours: audit/state sink (core/state_sink)"),
    ("log.cpp", r"bsc::log::|LogSink|log_line", "ours: logging (util/log)"),
    ("http_upgrade", r"UpgradeParser|http_upgrade|^llhttp", "ours: HTTP upgrade (net/http_upgrade, llhttp)"),
    ("ws_session", r"WsSession|^wslay", "ours: WebSocket (net/ws_session, wslay)"),
    ("bvlc", r"bvlc::|Bvlc|HubFunction", "ours: BVLC, hub function"),
    ("hub_function", None, "ours: BVLC, hub function"),
    ("client_hello", r"ClientHello", "ours: ClientHello peek (net/client_hello)"),
    ("tls_revocation", r"Revocation|crl", "ours: CRL check (net/tls_revocation)"),
    ("source_limiter", r"SourceLimiter", "ours: source rate limit"),
]
_OURS = [(f, re.compile(s) if s else None, c) for f, s, c in _OURS]
# Special functions that belong to a part although they live in another file.
_OURS_BY_NAME = [(re.compile(r"publish_history"), _OURS[3][2])]

_MALLOC = re.compile(r"^(malloc|calloc|realloc|free|cfree|_int_malloc|_int_free|_int_realloc|"
                     r"malloc_consolidate|tcache_|_int_memalign|__libc_malloc|__libc_calloc|"
                     r"__libc_free|__libc_realloc|unlink_chunk|sysmalloc|__GI___libc_free|"
                     r"__GI___libc_malloc|operator new|operator delete|_int_free_merge_chunk|"
                     r"_int_free_create_chunk|_int_free_maybe_consolidate)")
_KERNEL_SYSCALL = re.compile(r"^(__x64_sys_|__do_sys_|__se_sys_|ksys_)(\w+)")


def is_ours(obj):
    return bool(obj) and obj.rsplit("/", 1)[-1] == "bschub"


def our_part(name, obj, src):
    """The class of one of our functions with a job of its own, or None."""
    for rx, c in _OURS_BY_NAME:
        if rx.search(name):
            return c
    base = (src or "").rsplit("/", 1)[-1]
    for part, rx, c in _OURS:
        if src and "/src/" in src and part in base:
            return c
        if rx and (is_ours(obj) or not src) and rx.search(name):
            return c
    return None


def transition(ctx, name, obj, src=None):
    """The context below `name` when it runs in `ctx` ("none" at the root)."""
    if ctx in ECC:
        return ctx
    for rx, new in _ENTRY:
        if rx.search(name):
            if new == "VERIFY":
                return ECC_VERIFY_CA if ctx == X509_CHAIN else ECC_VERIFY_CV
            if ctx.startswith("ours:") and new not in ECC:
                return ctx  # our part's own hashing / parsing counts for it
            return new
    part = our_part(name, obj, src)
    if part and (is_ours(obj) or (src and "/src/" in src) or name.startswith(("llhttp", "wslay"))):
        return part
    return ctx


def leaf_class(ctx, name, obj, src=None, kernel_stack=()):
    """Where the cost of `name` itself goes when it runs in `ctx` (after transition)."""
    if ctx in ECC:
        return ctx
    if obj and "kernel" in obj:
        return kernel_class(kernel_stack or (name,))
    if _MALLOC.search(name):
        return MALLOC_CLASS
    if ctx != "none":
        return ctx
    lib = (obj or "?").rsplit("/", 1)[-1]
    if is_ours(obj):
        base = (src or "").rsplit("/", 1)[-1]
        return "ours (other): " + (base or name.split("(")[0][:40])
    if lib.startswith("libmbedtls"):
        return "mbedTLS handshake bookkeeping (libmbedtls)"
    if lib.startswith("libmbedcrypto"):
        return "mbedcrypto other (PSA key slots, RNG, bignum outside ECC)"
    if lib.startswith("libmbedx509"):
        return "X.509 other (libmbedx509)"
    if lib.startswith("libc"):
        return "libc other (memcpy, memset, syscall wrappers)"
    if lib.startswith("libuv"):
        return "libuv event loop"
    if lib.startswith("libstdc++"):
        return "libstdc++"
    return "other: " + lib


def kernel_class(stack):
    """A kernel sample's class from its kernel frames (any order): the system call, or
    page faults, interrupts and the rest."""
    for name in stack:
        m = _KERNEL_SYSCALL.match(name)
        if m:
            call = m.group(2)
            call = {"epoll_wait": "epoll_wait", "epoll_pwait": "epoll_wait"}.get(call, call)
            return "kernel: " + call
    joined = " ".join(stack)
    if "page_fault" in joined:
        return "kernel: page faults"
    if re.search(r"irq|softirq|apic_timer|sysvec", joined):
        return "kernel: interrupts, softirq"
    return "kernel: other"
