//! Path building with backtracking, and the verification result.

use std::sync::{Arc, OnceLock};

use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};

use crate::algorithms::RUSTCRYPTO_ALGORITHMS;
use crate::cache::IssuerCache;
use crate::cert::Cert;
use crate::checks::{self, Role, Usage};
use crate::crl::Crl;
use crate::dn;
use crate::error::{Budget, Check, RejectedCandidate, VerifyError};
use crate::identity::Identity;
use crate::names::{self, PeerName};
use crate::trust::TrustStore;

/// How the verifier is configured; every limit has a safe default.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifierOptions {
    /// The signature algorithms allowed. Default: [`RUSTCRYPTO_ALGORITHMS`]. A rustls
    /// provider's set plugs in directly:
    /// `rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms.all`.
    pub algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
    /// Most intermediates in a path (not counting leaf and anchor). Default 8.
    pub max_intermediates: usize,
    /// Most signature verifications one `verify` call may do. Default 100, webpki's figure:
    /// enough for any honest path with several cross-signed alternatives, small enough that a
    /// hostile bundle of intermediates costs at most ~100 verifications.
    pub max_signature_checks: usize,
    /// Most candidate issuers one `verify` call may consider (each step of backtracking).
    /// Default 2,000: a path search over 20 same-named intermediates with loops cut stays far
    /// below; a crafted mesh hits it in well under a millisecond of non-crypto work.
    pub max_candidates: usize,
    /// CRLs to check each certificate of the path against (RFC 5280 §6.3). Empty: no
    /// revocation checking.
    pub crls: Vec<Crl>,
    /// Capacity of the issuer-link cache in entries; 0 (the default) disables it. The cache
    /// holds verified CA-to-CA signatures (intermediate by root, ...), keyed by the exact DER
    /// of both certificates and valid inside both validity windows, so a fleet under one CA
    /// pays one signature check (its leaf's) per connection. Every other check still runs
    /// on every call.
    pub issuer_cache_capacity: usize,
    /// Accept a CA certificate (basicConstraints cA=TRUE) as the leaf, as RFC 5280's path
    /// validation does. Default false: refused with [`Check::CaAsLeaf`], as rustls-webpki
    /// and pyca/cryptography refuse it (x509-limbo has a case for each reading).
    pub allow_ca_leaf: bool,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        VerifierOptions {
            algorithms: RUSTCRYPTO_ALGORITHMS,
            max_intermediates: 8,
            max_signature_checks: 100,
            max_candidates: 2_000,
            crls: Vec::new(),
            issuer_cache_capacity: 0,
            allow_ca_leaf: false,
        }
    }
}

/// What one verification asks for.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifyRequest {
    /// The validation time.
    pub time: UnixTime,
    /// What the leaf is for (EKU).
    pub usage: Usage,
    /// The expected peer name, checked against the leaf's subjectAltName (never the CN).
    pub peer_name: Option<PeerName>,
    /// Require keyUsage digitalSignature in the leaf when it has a keyUsage extension.
    pub require_digital_signature: bool,
}

impl VerifyRequest {
    /// A request at `time` for `usage`, with no peer name.
    pub fn new(time: UnixTime, usage: Usage) -> VerifyRequest {
        VerifyRequest {
            time,
            usage,
            peer_name: None,
            require_digital_signature: false,
        }
    }

    /// A device (TLS client) certificate, now.
    pub fn client_auth_now() -> VerifyRequest {
        VerifyRequest::new(UnixTime::now(), Usage::ClientAuth)
    }

    /// Sets the expected peer name.
    pub fn with_peer_name(mut self, name: PeerName) -> VerifyRequest {
        self.peer_name = Some(name);
        self
    }
}

/// A verified path: the certificates from the leaf to the trust anchor, and the leaf's
/// identity. It keeps the parsed certificates (the leaf's and the intermediates' moved in, the
/// anchor shared with the store); the DER list, the identity and the subject texts are made on
/// first use, so a caller that only needs the verdict (a TLS handshake) does not pay for them.
#[derive(Clone, Debug)]
pub struct VerifiedPath {
    leaf: Cert,
    intermediates: Vec<Cert>,
    anchor: Arc<Cert>,
    certificates: OnceLock<Vec<CertificateDer<'static>>>,
    subjects: OnceLock<Vec<String>>,
    identity: OnceLock<Identity>,
}

impl VerifiedPath {
    /// Leaf first, anchor last.
    fn path(&self) -> impl Iterator<Item = &Cert> {
        std::iter::once(&self.leaf)
            .chain(&self.intermediates)
            .chain(std::iter::once(&*self.anchor))
    }

    /// Leaf first, trust anchor last.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        self.certificates.get_or_init(|| {
            self.path()
                .map(|c| CertificateDer::from(c.der.clone()))
                .collect()
        })
    }

    /// The subjects along the path, RFC 4514 text, leaf first.
    pub fn subjects(&self) -> &[String] {
        self.subjects
            .get_or_init(|| self.path().map(|c| dn::to_rfc4514(c.subject())).collect())
    }

    /// The leaf's identity.
    pub fn identity(&self) -> &Identity {
        self.identity.get_or_init(|| Identity::of(&self.leaf))
    }

    /// The trust anchor the path ends at (DER).
    pub fn anchor(&self) -> Option<&CertificateDer<'static>> {
        self.certificates().last()
    }
}

/// Verifies certificate chains against a [`TrustStore`]. Cheap to share (`Arc<Verifier>`):
/// `verify` takes `&self`.
#[derive(Debug)]
pub struct Verifier {
    store: TrustStore,
    options: VerifierOptions,
    cache: Option<IssuerCache>,
}

impl Verifier {
    /// A verifier over `store`.
    pub fn new(store: TrustStore, options: VerifierOptions) -> Verifier {
        let cache = (options.issuer_cache_capacity > 0)
            .then(|| IssuerCache::new(options.issuer_cache_capacity));
        Verifier {
            store,
            options,
            cache,
        }
    }

    /// The trust store.
    pub fn trust_store(&self) -> &TrustStore {
        &self.store
    }

    /// The options.
    pub fn options(&self) -> &VerifierOptions {
        &self.options
    }

    /// Builds and validates a path from `leaf` (DER) through any of `intermediates` (DER, in
    /// any order, unneeded ones ignored) to a trust anchor.
    pub fn verify<B: AsRef<[u8]>>(
        &self,
        leaf: &[u8],
        intermediates: &[B],
        request: &VerifyRequest,
    ) -> Result<VerifiedPath, VerifyError> {
        let leaf =
            Cert::parse(leaf).map_err(|error| VerifyError::BadEncoding { index: 0, error })?;
        let mut pool = Vec::with_capacity(intermediates.len());
        for (i, der) in intermediates.iter().enumerate() {
            let cert = Cert::parse(der.as_ref()).map_err(|error| VerifyError::BadEncoding {
                index: i.saturating_add(1),
                error,
            })?;
            pool.push(cert);
        }
        let time = request.time.as_secs();
        checks::check_leaf(&leaf, request.usage, time, self.options.allow_ca_leaf)
            .map_err(|check| VerifyError::Invalid { index: 0, check })?;
        if request.require_digital_signature {
            if let Some(ku) = &leaf.ext.key_usage {
                if !ku.value.digital_signature() {
                    return Err(VerifyError::Invalid {
                        index: 0,
                        check: Check::KeyUsage {
                            required: "digitalSignature",
                        },
                    });
                }
            }
        }

        let mut search = Search {
            verifier: self,
            request,
            pool: &pool,
            chain: Vec::new(),
            time,
            signatures: 0,
            candidates: 0,
        };
        let mut path: Vec<&Cert> = vec![&leaf];
        let anchor = Arc::clone(search.extend(&mut path, &leaf)?);
        let chain = search.chain;
        drop(path);

        // RFC 6125 §6: after the path, the name (only subjectAltName; never the CN).
        if let Some(expected) = &request.peer_name {
            if !names::matches_peer(&leaf, expected) {
                return Err(VerifyError::PeerNameMismatch {
                    expected: expected.to_string(),
                });
            }
        }

        // The intermediates on the path, moved out of the pool in path order. `chain` holds
        // pool positions the search put on the path, each once (a path has no loop).
        let mut pool: Vec<Option<Cert>> = pool.into_iter().map(Some).collect();
        let intermediates = chain
            .iter()
            .filter_map(|&i| pool.get_mut(i).and_then(Option::take))
            .collect();
        Ok(VerifiedPath {
            leaf,
            intermediates,
            anchor,
            certificates: OnceLock::new(),
            subjects: OnceLock::new(),
            identity: OnceLock::new(),
        })
    }
}

/// One path search: its inputs and the budget spent so far.
struct Search<'a> {
    verifier: &'a Verifier,
    request: &'a VerifyRequest,
    pool: &'a [Cert],
    /// The pool positions of the intermediates on the path being tried, leaf side first.
    chain: Vec<usize>,
    time: u64,
    signatures: usize,
    candidates: usize,
}

/// Is `candidate` named as `child`'s issuer? Names must match exactly (RFC 5280 §6.1.3
/// (a)(4), compared as encoded, as webpki does).
fn named_issuer(candidate: &Cert, child: &Cert) -> bool {
    candidate.subject_der() == child.issuer_der()
}

/// Key identifiers, when both are present, must agree (RFC 5280 §4.2.1.1).
fn key_ids_agree(candidate: &Cert, child: &Cert) -> bool {
    match (child.authority_key_identifier(), candidate.subject_key_id()) {
        (Some(aki), Some(ski)) => aki == ski.value,
        _ => true,
    }
}

/// A candidate issuer: an anchor from the store or an intermediate from the pool (with its
/// position there).
#[derive(Clone, Copy)]
enum Candidate<'a> {
    Anchor(&'a Arc<Cert>),
    Intermediate(usize, &'a Cert),
}

impl<'a> Candidate<'a> {
    fn cert(self) -> &'a Cert {
        match self {
            Candidate::Anchor(cert) => cert,
            Candidate::Intermediate(_, cert) => cert,
        }
    }
}

impl<'a> Search<'a> {
    /// Extends `path` (leaf first, ending with `child`) to an anchor, and returns the anchor.
    /// On failure `path` is as it was.
    fn extend(
        &mut self,
        path: &mut Vec<&'a Cert>,
        child: &'a Cert,
    ) -> Result<&'a Arc<Cert>, VerifyError> {
        let index = path.len().saturating_sub(1);
        let issuer_index = path.len();
        // Anchors first: the shortest path wins when one exists.
        let (verifier, pool) = (self.verifier, self.pool);
        let anchors = verifier.store.anchors.iter().map(Candidate::Anchor);
        let intermediates = pool
            .iter()
            .enumerate()
            .map(|(i, cert)| Candidate::Intermediate(i, cert));
        let candidates = anchors
            .chain(intermediates)
            .filter(|c| named_issuer(c.cert(), child));

        let mut rejected = Vec::new();
        for candidate in candidates {
            self.candidates = self.candidates.saturating_add(1);
            if self.candidates > self.verifier.options.max_candidates {
                return Err(VerifyError::BudgetExceeded {
                    budget: Budget::CandidateIssuers,
                });
            }
            let cert = candidate.cert();
            let anchor = matches!(candidate, Candidate::Anchor(_));
            match self.try_candidate(path, child, candidate, issuer_index) {
                Ok(found) => return Ok(found),
                Err(e @ VerifyError::BudgetExceeded { .. }) => return Err(e),
                Err(reason) => rejected.push(RejectedCandidate {
                    subject: dn::to_rfc4514(cert.subject()),
                    trust_anchor: anchor,
                    reason,
                }),
            }
        }
        // One candidate: its failure is the answer (more useful than "unknown issuer"),
        // unless it was only a loop back into the path (a self-signed certificate offered as
        // an intermediate), which says nothing about why no issuer was found.
        let only_real = rejected.len() == 1
            && !rejected.iter().any(|r| {
                matches!(
                    r.reason,
                    VerifyError::Invalid {
                        check: Check::Loop,
                        ..
                    }
                )
            });
        if only_real {
            if let Some(only) = rejected.pop() {
                return Err(only.reason);
            }
        }
        Err(VerifyError::UnknownIssuer {
            index,
            issuer: dn::to_rfc4514(child.issuer()),
            candidates: rejected,
        })
    }

    /// Checks `cert` as the issuer of `child` (the last of `path`) and, if it is not an
    /// anchor, extends the path beyond it.
    fn try_candidate(
        &mut self,
        path: &mut Vec<&'a Cert>,
        child: &'a Cert,
        candidate: Candidate<'a>,
        issuer_index: usize,
    ) -> Result<&'a Arc<Cert>, VerifyError> {
        let cert = candidate.cert();
        let anchor = matches!(candidate, Candidate::Anchor(_));
        let invalid = |check| VerifyError::Invalid {
            index: issuer_index,
            check,
        };
        let role = if anchor {
            Role::Anchor
        } else {
            Role::Intermediate
        };
        if !key_ids_agree(cert, child) {
            return Err(invalid(Check::KeyIdentifierMismatch));
        }
        if !anchor {
            // Loop detection: the same certificate, or the same subject and key.
            if path.iter().any(|p| {
                p.der == cert.der
                    || (p.subject_der() == cert.subject_der() && p.spki_key() == cert.spki_key())
            }) {
                return Err(invalid(Check::Loop));
            }
            // Self-issued intermediates (key rollover) do not count toward the depth, as they
            // do not count toward pathLenConstraint (RFC 5280 §6.1.4 (l)).
            let intermediates = path.iter().skip(1).filter(|c| !c.is_self_issued()).count();
            if !cert.is_self_issued() && intermediates >= self.verifier.options.max_intermediates {
                return Err(VerifyError::MaxDepthExceeded {
                    max_intermediates: self.verifier.options.max_intermediates,
                });
            }
        }
        // Non-self-issued intermediates between this CA and the leaf (RFC 5280 §6.1.4 (l)).
        let below = path.iter().skip(1).filter(|c| !c.is_self_issued()).count();
        checks::check_issuer(cert, role, self.request.usage, self.time, below).map_err(invalid)?;

        // Name constraints apply to every certificate below, except self-issued
        // intermediates (RFC 5280 §6.1.3 (b): "... or if certificate i is self-issued and
        // not the final certificate in the path").
        if let Some(nc) = &cert.ext.name_constraints {
            for (j, below) in path.iter().enumerate() {
                if j > 0 && below.is_self_issued() {
                    continue;
                }
                names::check_constraints(&nc.value, issuer_index, below)
                    .map_err(|check| VerifyError::Invalid { index: j, check })?;
            }
        }

        let child_index = issuer_index.saturating_sub(1);
        self.verify_link(child, child_index, cert)?;

        match candidate {
            Candidate::Anchor(found) => {
                self.check_revocation(path, cert)?;
                Ok(found)
            }
            Candidate::Intermediate(position, _) => {
                path.push(cert);
                self.chain.push(position);
                let result = self.extend(path, cert);
                if result.is_err() {
                    path.pop();
                    self.chain.pop();
                }
                result
            }
        }
    }

    /// Spends one unit of the signature budget, or says it is used up.
    fn spend_signature(&mut self) -> Result<(), VerifyError> {
        if self.signatures >= self.verifier.options.max_signature_checks {
            return Err(VerifyError::BudgetExceeded {
                budget: Budget::SignatureChecks,
            });
        }
        self.signatures = self.signatures.saturating_add(1);
        Ok(())
    }

    /// Picks the algorithm for `signed_alg` with `issuer`'s key type and verifies (the
    /// caller has spent the budget: [`Search::spend_signature`]).
    fn verify_signature(
        &mut self,
        issuer: &Cert,
        signed_alg: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Check> {
        let spki_alg = issuer.spki_algorithm();
        let Some(alg) = self.verifier.options.algorithms.iter().find(|a| {
            a.public_key_alg_id().as_ref() == spki_alg
                && a.signature_alg_id().as_ref() == signed_alg
        }) else {
            return Err(Check::UnsupportedSignatureAlgorithm);
        };
        alg.verify_signature(issuer.spki_key(), message, signature)
            .map_err(|_| Check::BadSignature)
    }

    /// RFC 5280 §6.1.3 (a)(1): `child`'s signature by `issuer`'s key, through the cache.
    fn verify_link(
        &mut self,
        child: &Cert,
        child_index: usize,
        issuer: &Cert,
    ) -> Result<(), VerifyError> {
        // Only CA-to-CA links are cached: those are shared by a whole fleet, while each
        // device's leaf link is its own and would only evict them.
        let cache = self.verifier.cache.as_ref().filter(|_| child_index > 0);
        if let Some(cache) = cache {
            if cache.contains(&child.der, &issuer.der, self.time) {
                return Ok(());
            }
        }
        self.spend_signature()?;
        self.verify_signature(
            issuer,
            child.signature_algorithm(),
            child.tbs(),
            child.signature(),
        )
        .map_err(|check| VerifyError::Invalid {
            index: child_index,
            check,
        })?;
        if let Some(cache) = cache {
            cache.insert(
                &child.der,
                &issuer.der,
                child.not_before.max(issuer.not_before),
                child.not_after.min(issuer.not_after),
            );
        }
        Ok(())
    }

    /// RFC 5280 §6.3: with CRLs supplied, each certificate below the anchor is checked
    /// against every CRL its issuer signed.
    fn check_revocation(&mut self, path: &[&'a Cert], anchor: &'a Cert) -> Result<(), VerifyError> {
        let crls = &self.verifier.options.crls;
        if crls.is_empty() {
            return Ok(());
        }
        for (index, cert) in path.iter().enumerate() {
            let issuer = path.get(index.saturating_add(1)).copied().unwrap_or(anchor);
            for crl in crls.iter().filter(|c| c.issuer_der() == cert.issuer_der()) {
                let bad = |detail: &str| VerifyError::Invalid {
                    index,
                    check: Check::BadCrl {
                        detail: detail.to_string(),
                    },
                };
                if let Some(defect) = crl.defect {
                    return Err(bad(defect));
                }
                // RFC 5280 §6.3.3 (f): the CRL issuer's key must be usable for CRLs.
                if issuer
                    .ext
                    .key_usage
                    .as_ref()
                    .is_some_and(|k| !k.value.crl_sign())
                {
                    return Err(bad(
                        "the issuer's keyUsage lacks cRLSign (RFC 5280 4.2.1.3)",
                    ));
                }
                self.spend_signature()?;
                self.verify_signature(
                    issuer,
                    crl.signature_algorithm(),
                    crl.tbs(),
                    crl.signature(),
                )
                .map_err(|c| bad(&format!("signature: {c}")))?;
                // RFC 5280 §6.3.3 (a): thisUpdate <= time <= nextUpdate.
                if crl.this_update > self.time {
                    return Err(bad("thisUpdate is after the validation time"));
                }
                if crl.next_update.is_some_and(|n| n < self.time) {
                    return Err(bad("nextUpdate is before the validation time (stale CRL)"));
                }
                if crl.is_revoked(cert.serial()) {
                    return Err(VerifyError::Invalid {
                        index,
                        check: Check::Revoked {
                            serial: hex::encode(cert.serial()),
                        },
                    });
                }
            }
        }
        Ok(())
    }
}
