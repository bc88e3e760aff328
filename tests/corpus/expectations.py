"""What each PDF of the shared attack corpus must get from our verifier, with its roots trusted.

The oracle is ``MANIFEST.md`` ("expected verdict"), read with the corpus's own "trusted*"
convention: the self-signed certificates a file carries are trusted. Each file is in one
group; the groups after ``UNSIGNED`` are the documented exceptions (README, "Verification"):
files upstream calls valid that we do not pass, each for a stated reason.
"""

from __future__ import annotations

#: Every signature TOTAL_PASSED.
VALID = "valid"
#: Not valid for a reason other than trust: a signature TOTAL_FAILED, or no signature could
#: be read at all ("unreadable"; "not_signed" for empty /Contents forgeries).
ATTACK = "attack"
#: Upstream's own verdict is INDETERMINATE (or "not valid" with the signer unidentified):
#: no signature passes, and one carries this sub-indication.
EXPECTED_INDETERMINATE = "expected_indeterminate"
#: Unsigned or malformed input: "not_signed" or "unreadable", never an exception.
UNSIGNED = "unsigned"
#: Exception: pyHanko rates a change between signatures OTHER (it cannot explain it) and we
#: refuse what cannot be explained (MANIFEST finding 6). Every signature is intact.
UNEXPLAINED_CHANGE = "unexplained_change"
#: Exception: RSA-1024 key or SHA-1 certificate signature, below our algorithm policy
#: (pyHanko's default): INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE, nothing failed.
WEAK_ALGORITHM = "weak_algorithm"
#: Exception: the signer's certificate (pyHanko's and the ETSI plugtest's test PKI) has expired
#: and the signature has no trusted time stamp proving it was made in time: INDETERMINATE /
#: OUT_OF_BOUNDS_NO_POE, as ETSI EN 319 102-1 rules. Nothing failed.
EXPIRED_NO_TIMESTAMP = "expired_no_timestamp"
#: Exception: the file carries no self-signed root (DSS test PKI), so "trusted*" trusts
#: nothing: INDETERMINATE for trust only. Nothing failed.
ROOT_NOT_IN_CORPUS = "root_not_in_corpus"

EXCEPTIONS = (UNEXPLAINED_CHANGE, WEAK_ALGORITHM, EXPIRED_NO_TIMESTAMP, ROOT_NOT_IN_CORPUS)

EXPECTED: dict[str, tuple[str, str | None]] = {
    "eu-dss/pades-enveloping-other-pdf.pdf": (VALID, None),
    "certification-attacks-rub/minimal_cert.pdf": (VALID, None),
    "certification-attacks-rub/shadowed-certified-visible.pdf": (VALID, None),
    "certification-attacks-rub/signed_fieldmdp.pdf": (VALID, None),
    "certification-attacks-rub/signed_ur3.pdf": (VALID, None),
    "pyhanko-tests/minimal-signed-twice-both-created.pdf": (VALID, None),
    "pyhanko-tests/minimal-signed-twice-second-created.pdf": (VALID, None),
    "pyhanko-tests/minimal-two-fields-signed-twice.pdf": (VALID, None),
    "pyhanko-tests/pades-lta-dss-indirect-arrs-test-2.pdf": (VALID, None),
    "pyhanko-tests/pades-lta-dss-indirect-arrs-test.pdf": (VALID, None),
    "shadow-attacks-2021/hide-and-replace/variant-1_change_object_references/3_original-document-shadowed-signed.pdf": (
        VALID,
        None,
    ),
    "shadow-attacks-2021/hide-and-replace/variant-2_change_objects_usage/3_original-document-shadowed-signed.pdf": (
        VALID,
        None,
    ),
    "shadow-attacks-2021/hide/variant-1_hide-via-referenced-object/3_original-document-shadowed-signed.pdf": (
        VALID,
        None,
    ),
    "shadow-attacks-2021/hide/variant-2_hide-via-referenced-object/hide-form-via-form/3_original-document-shadowed-signed.pdf": (
        VALID,
        None,
    ),
    "shadow-attacks-2021/hide/variant-2_hide-via-referenced-object/hide-text-via-form/3_original-document-shadowed-signed.pdf": (
        VALID,
        None,
    ),
    "shadow-attacks-2021/replace/variant-1_replace-via-overlay/3_original-document-shadowed-signed.pdf": (
        VALID,
        None,
    ),
    "shadow-attacks-2021/replace/variant-2_replace-via-overwrite/3_original-document-shadowed-signed.pdf": (
        VALID,
        None,
    ),
    "certification-attacks-rub/ex1_03_Test_cert_p2_sign_manipulate.pdf": (ATTACK, None),
    "certification-attacks-rub/ex2_03_NDA_cert_p2_sign_manipulate.pdf": (ATTACK, None),
    "certification-attacks-rub/ex2_04_NDA_cert_p2_sign_sign_manipulate.pdf": (ATTACK, None),
    "certification-attacks-rub/minimal_cert_invalid.pdf": (ATTACK, None),
    "eu-dss/BadEncodedCMS.pdf": (ATTACK, None),
    "eu-dss/dss-2236/annotation-and-visible-change.pdf": (ATTACK, None),
    "eu-dss/dss-2236/replace.pdf": (ATTACK, None),
    "eu-dss/hello_signed_INCSAVE_signed_EDITED.pdf": (ATTACK, None),
    "eu-dss/modified_after_signature.pdf": (ATTACK, None),
    "eu-dss/pades-bes-no-certificates.pdf": (ATTACK, None),
    "eu-dss/pades-enveloping-empty-bytes-cms.pdf": (ATTACK, None),
    "eu-dss/pades-lta-copied-doctst.pdf": (ATTACK, None),
    "eu-dss/pades-signed-annot-added.pdf": (ATTACK, None),
    "eu-dss/pades-spoofing-replaced-reason.pdf": (ATTACK, None),
    "eu-dss/pades-t-duplicated-doctst.pdf": (ATTACK, None),
    "eu-dss/pades-two-sig-copied-tst.pdf": (ATTACK, None),
    "eu-dss/pades-unsupported-signature-algorithm.pdf": (ATTACK, None),
    "eu-dss/pades_infinite_loop.pdf": (ATTACK, None),
    "eu-dss/pades_opposite_infinite_loop.pdf": (ATTACK, None),
    "eu-dss/pdf-byterange-overlap.pdf": (ATTACK, None),
    "eu-dss/pdf-double-signer-info.pdf": (ATTACK, None),
    "eu-dss/pdf-eof.pdf": (ATTACK, None),
    "eu-dss/pdf-removed-pages.pdf": (ATTACK, None),
    "eu-dss/pdf-signed-added-page.pdf": (ATTACK, None),
    "eu-dss/pdf-signed-corrupted.pdf": (ATTACK, None),
    "eu-dss/pdf-signed-out-of-byteRange.pdf": (ATTACK, None),
    "eu-dss/pdf-spoofing-attack.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_A.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_B.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_C.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_D.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_E.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_F.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_G.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_H.pdf": (ATTACK, None),
    "pdf-insecurity-2019/isa_I.pdf": (ATTACK, None),
    "pdf-insecurity-2019/siwa_A.pdf": (ATTACK, None),
    "pdf-insecurity-2019/siwa_B.pdf": (ATTACK, None),
    "pdf-insecurity-2019/siwa_C.pdf": (ATTACK, None),
    "pdf-insecurity-2019/siwa_D.pdf": (ATTACK, None),
    "pdf-insecurity-2019/siwa_E.pdf": (ATTACK, None),
    "pdf-insecurity-2019/usf_01_Empty_Contents.pdf": (ATTACK, None),
    "pdf-insecurity-2019/usf_02_00_Contents.pdf": (ATTACK, None),
    "pdf-insecurity-2019/usf_03_Null_Contents.pdf": (ATTACK, None),
    "pdf-insecurity-2019/usf_04_No_Contents_Value.pdf": (ATTACK, None),
    "pdf-insecurity-2019/usf_05_No_Contents.pdf": (ATTACK, None),
    "pdf-insecurity-2019/usf_12_Null_ByteRange.pdf": (ATTACK, None),
    "pdf-insecurity-2019/usf_14_No_ByteRange.pdf": (ATTACK, None),
    "pyhanko-tests/coverage-anomalies/one-byterange.pdf": (ATTACK, None),
    "pyhanko-tests/coverage-anomalies/signature-gap-too-big.pdf": (ATTACK, None),
    "pyhanko-tests/coverage-anomalies/tail-uncovered.pdf": (ATTACK, None),
    "pyhanko-tests/coverage-anomalies/weird-byterange.pdf": (ATTACK, None),
    "pyhanko-tests/extensions-indirect-not-all-paths.pdf": (ATTACK, None),
    "pyhanko-tests/form-update-ap-indirect-sneaky-trailer.pdf": (ATTACK, None),
    "pyhanko-tests/form-update-no-override-appearance-stream-ap-indirect-sneaky.pdf": (
        ATTACK,
        None,
    ),
    "pyhanko-tests/form-update-override-appearance-stream-ap-indirect-sneaky.pdf": (ATTACK, None),
    "pyhanko-tests/form-update-override-appearance-stream-sneaky.pdf": (ATTACK, None),
    "pyhanko-tests/pdf-sig-with-econtent.pdf": (ATTACK, None),
    "shadow-attacks-2021/hide-and-replace/variant-1_change_object_references/4_original-document-shadowed-signed-manipulated.pdf": (
        ATTACK,
        None,
    ),
    "shadow-attacks-2021/hide-and-replace/variant-2_change_objects_usage/4_original-document-shadowed-signed-manipulated.pdf": (
        ATTACK,
        None,
    ),
    "shadow-attacks-2021/hide/variant-1_hide-via-referenced-object/4_original-document-shadowed-signed-manipulated_v1.pdf": (
        ATTACK,
        None,
    ),
    "shadow-attacks-2021/hide/variant-1_hide-via-referenced-object/4_original-document-shadowed-signed-manipulated_v2.pdf": (
        ATTACK,
        None,
    ),
    "shadow-attacks-2021/hide/variant-2_hide-via-referenced-object/hide-form-via-form/4_original-document-shadowed-signed-manipulated.pdf": (
        ATTACK,
        None,
    ),
    "shadow-attacks-2021/hide/variant-2_hide-via-referenced-object/hide-text-via-form/4_original-document-shadowed-signed-manipulated.pdf": (
        ATTACK,
        None,
    ),
    "shadow-attacks-2021/replace/variant-1_replace-via-overlay/4_original-document-shadowed-signed-manipulated.pdf": (
        ATTACK,
        None,
    ),
    "shadow-attacks-2021/replace/variant-2_replace-via-overwrite/4_original-document-shadowed-signed-manipulated.pdf": (
        ATTACK,
        None,
    ),
    "eu-dss/DSS-1683.pdf": (EXPECTED_INDETERMINATE, "CRYPTO_CONSTRAINTS_FAILURE"),
    "eu-dss/pkcs7-no-message-digest.pdf": (EXPECTED_INDETERMINATE, "CRYPTO_CONSTRAINTS_FAILURE"),
    "eu-dss/self-issued-qesig.pdf": (EXPECTED_INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"),
    "eu-dss/wrong-digest-algo.pdf": (EXPECTED_INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"),
    "pyhanko-tests/ed448-disallowed-hash.pdf": (
        EXPECTED_INDETERMINATE,
        "CRYPTO_CONSTRAINTS_FAILURE",
    ),
    "eu-dss/pdf-with-empty-sig.pdf": (UNSIGNED, None),
    "pyhanko-tests/coverage-anomalies/base.pdf": (UNSIGNED, None),
    "pyhanko-tests/malformed/broken-objstream1.pdf": (UNSIGNED, None),
    "pyhanko-tests/malformed/broken-objstream5.pdf": (UNSIGNED, None),
    "pyhanko-tests/malformed/circular-page-tree.pdf": (UNSIGNED, None),
    "pyhanko-tests/malformed/form-tree-circular-ref-input.pdf": (UNSIGNED, None),
    "pyhanko-tests/malformed/minimal-badxref.pdf": (UNSIGNED, None),
    "pyhanko-tests/malformed/minimal-illegal-header.pdf": (UNSIGNED, None),
    "pyhanko-tests/malformed/minimal-startxref-hopeless.pdf": (UNSIGNED, None),
    "pyhanko-tests/malformed/struct-tree-circular-ref.pdf": (UNSIGNED, None),
    "certification-attacks-rub/ex1_02_Test_cert_p2_sign_original.pdf": (UNEXPLAINED_CHANGE, None),
    "certification-attacks-rub/ex2_02_NDA_cert_p2_sign_original.pdf": (UNEXPLAINED_CHANGE, None),
    "eu-dss/PAdES-LT.pdf": (UNEXPLAINED_CHANGE, None),
    "eu-dss/Signature-P-DE_SCI-4.pdf": (UNEXPLAINED_CHANGE, None),
    "eu-dss/pdf-structtreeroot-changes.pdf": (UNEXPLAINED_CHANGE, None),
    "eu-dss/dss-2554/certified-no-change-permitted.pdf": (WEAK_ALGORITHM, None),
    "eu-dss/hello_signed_INCSAVE_signed.pdf": (WEAK_ALGORITHM, None),
    "eu-dss/Signature-P-HU_MIC-1.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/certified-with-indirect-refs-in-dir.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/ed448-shake256-nolen.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/extensions-direct.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/extensions-indirect.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/extensions-update-direct.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/extensions-update-indirect.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/form-update-no-override-appearance-stream-ap-indirect.pdf": (
        EXPIRED_NO_TIMESTAMP,
        None,
    ),
    "pyhanko-tests/form-update-original-ap-type-wrong.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/form-update-override-appearance-stream-ap-indirect.pdf": (
        EXPIRED_NO_TIMESTAMP,
        None,
    ),
    "pyhanko-tests/form-update-override-appearance-stream.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/minimal-signed-twice-no-sig-type.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/pades-with-old-style-signing-cert-attr-issser.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/pades-with-old-style-signing-cert-attr.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/sig-no-signed-attrs.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "pyhanko-tests/sig-with-ski-sid.pdf": (EXPIRED_NO_TIMESTAMP, None),
    "eu-dss/dss-2058-LTA-test.pdf": (ROOT_NOT_IN_CORPUS, None),
    "eu-dss/dss-2554/certified-changes-permitted.pdf": (ROOT_NOT_IN_CORPUS, None),
    "eu-dss/dss-2554/fieldmdp-exclude-signed.pdf": (ROOT_NOT_IN_CORPUS, None),
    "eu-dss/pades-bes.pdf": (ROOT_NOT_IN_CORPUS, None),
    "eu-dss/pdf-signed-original.pdf": (ROOT_NOT_IN_CORPUS, None),
    "eu-dss/signature-referenced-from-multiple-fields.pdf": (ROOT_NOT_IN_CORPUS, None),
}
