//! Property tests: normalisation is idempotent, similarity is symmetric and in [0, 1], and no
//! public function panics on arbitrary Unicode.

use names::{Part, PreparedName, System};
use proptest::prelude::*;

/// Names drawn from the scripts and marks the crate meets, plus anything at all.
fn name_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[А-Яа-яЁёІіЇїЄєҐґЎў' .,-]{0,24}",
        "[A-Za-zÀ-žŁłŻżŚśĆćŃńČčŠšŽžĚěŘřŮů' .,-]{0,24}",
        // One word mixing the scripts, as typists and OCR wrote them ("Hиколай").
        "[A-Za-zА-Яа-яЁёІіЇїËëÏï\u{301}\u{308}]{1,12}",
        any::<String>(),
    ]
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![Just(Part::Surname), Just(Part::Given), Just(Part::Patronymic), Just(Part::Full)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn normalisation_is_idempotent(text in name_text()) {
        let once = names::normalize(&text);
        prop_assert_eq!(names::normalize(&once), once);
    }

    #[test]
    fn similarity_is_symmetric_and_bounded(a in name_text(), b in name_text(), part in part()) {
        let ab = names::similarity(&a, &b, part);
        let ba = names::similarity(&b, &a, part);
        prop_assert!((0.0..=1.0).contains(&ab), "{ab}");
        prop_assert!((ab - ba).abs() < 1e-9, "{ab} vs {ba}");
        let c = names::compare(&a, &b, part);
        prop_assert!((c.score - ab).abs() < 1e-6, "compare {} vs similarity {}", c.score, ab);
    }

    #[test]
    fn trimming_shared_ends_keeps_the_exact_score(
        start in "[a-zа-я]{0,6}",
        x in "[ijyeaoйиьеяюrnm]{0,4}",
        y in "[ijyeaoйиьеяюrnm]{0,4}",
        end in "[a-zа-я]{0,6}",
    ) {
        let (a, b) = (format!("{start}{x}{end}"), format!("{start}{y}{end}"));
        let fast = names::similarity(&a, &b, Part::Surname);
        let explained = names::compare(&a, &b, Part::Surname).score;
        prop_assert!((fast - explained).abs() < 1e-6, "{a} / {b}: {fast} vs {explained}");
    }

    #[test]
    fn a_name_is_the_same_as_itself(a in "[А-Яа-я]{2,12}|[A-Za-z]{2,12}", part in part()) {
        let prepared = PreparedName::new(&a, part);
        prop_assert!(prepared.similarity(&prepared) >= names::SAME_THRESHOLD);
    }

    #[test]
    fn nothing_panics(text in name_text()) {
        let _ = names::parse(&text);
        let _ = names::key(&text);
        let _ = names::keys(&text);
        let _ = names::back_translit(&text);
        let _ = names::daitch_mokotoff(&text);
        for system in System::ALL {
            let _ = names::translit(&text, system);
        }
    }

    #[test]
    fn transliteration_leaves_no_cyrillic(text in "[А-Яа-яЁёІіЇїЄєҐґЎў ]{0,20}") {
        for system in System::ALL {
            let out = names::translit(&text, system);
            prop_assert!(!out.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)), "{} -> {}", system, out);
        }
    }
}
