//! The sentence encoder with the real all-MiniLM-L6-v2, converted from its Hugging Face files.

use lyceum_llm::encoder::{Encoder, EncoderConfig, MAX_TOKENS, similarity};

use crate::helpers::test_encoder;

fn encoder() -> Encoder {
    Encoder::load(&EncoderConfig {
        model_path: test_encoder(),
        threads: 2,
    })
    .unwrap()
}

/// Ten unit openings on different subjects, as a small course catalogue would have them.
const UNITS: [&str; 10] = [
    "Photosynthesis: how green plants use sunlight, water and carbon dioxide to produce glucose and oxygen in their leaves.",
    "Neural networks: layers of artificial neurons, weights and activation functions, trained by backpropagation.",
    "The French Revolution: the fall of the monarchy in 1789, the Terror, and the rise of Napoleon.",
    "Budgeting basics: tracking income and expenses, saving a share of every paycheck, avoiding debt.",
    "Plate tectonics: how the continents drift on the mantle, and why earthquakes happen at plate boundaries.",
    "The printing press: Gutenberg's movable type and how cheap books spread the Reformation.",
    "Vaccines: how the immune system learns to recognise a pathogen from a harmless copy of it.",
    "Supply and demand: how prices settle where what buyers want meets what sellers offer.",
    "Sonnets: fourteen lines of iambic pentameter, from Petrarch to Shakespeare.",
    "Sorting algorithms: quicksort, mergesort and their running times on large arrays.",
];

fn best(query: &[f32], units: &[Vec<f32>]) -> usize {
    let scores: Vec<f32> = units.iter().map(|unit| similarity(query, unit)).collect();
    (0..scores.len())
        .max_by(|a, b| scores[*a].total_cmp(&scores[*b]))
        .unwrap()
}

#[tokio::test]
async fn a_question_in_other_words_finds_the_unit_that_answers_it() {
    let encoder = encoder();
    assert_eq!(encoder.dimensions(), 384);
    let units = encoder
        .embed(UNITS.iter().map(|unit| unit.to_string()).collect())
        .await
        .unwrap();
    let queries = encoder
        .embed(vec![
            "neural nets".into(),
            "how do plants make food".into(),
            "why does the ground shake".into(),
        ])
        .await
        .unwrap();
    assert_eq!(best(&queries[0], &units), 1, "neural nets");
    assert_eq!(best(&queries[1], &units), 0, "how do plants make food");
    assert_eq!(best(&queries[2], &units), 4, "why does the ground shake");
}

#[tokio::test]
async fn vectors_are_unit_length_and_a_text_is_most_like_itself() {
    let encoder = encoder();
    let texts: Vec<String> = vec![
        UNITS[2].into(),
        UNITS[2].into(),
        String::new(),
        "word ".repeat(MAX_TOKENS * 3),
    ];
    let vectors = encoder.embed(texts).await.unwrap();
    for vector in &vectors {
        assert_eq!(vector.len(), 384);
        let length = similarity(vector, vector).sqrt();
        assert!((length - 1.0).abs() < 1e-5, "length {length}");
    }
    let same = similarity(&vectors[0], &vectors[1]);
    assert!((same - 1.0).abs() < 1e-5, "a text with itself: {same}");
    // One text alone and the same text among others in one pass give the same vector.
    let alone = encoder.embed(vec![UNITS[2].into()]).await.unwrap();
    assert!((similarity(&alone[0], &vectors[0]) - 1.0).abs() < 1e-5);
    let other = similarity(&vectors[0], &vectors[3]);
    assert!(other < 0.5, "unrelated texts are far apart: {other}");
}

#[tokio::test]
async fn vectors_match_an_independent_forward_pass_of_the_original_weights() {
    // The first eight dimensions of each text's vector from a plain NumPy BERT over the original
    // safetensors, tokenized by Hugging Face's own `tokenizers` (mean pooling, unit length; the long
    // text cut at 256 tokens as here). A wrong tensor name, layout, vocabulary spelling or pooling
    // in the conversion changes these far more than the tolerance.
    let cases: [(String, [f32; 8]); 3] = [
        (
            "How do plants make food?".into(),
            [
                -0.02782, 0.00682, -0.05336, 0.06749, -0.03804, 0.01243, 0.0169, -0.06988,
            ],
        ),
        (
            "Café au lait: naïve résumé of Ünïcode, 1,024 tokens!".into(),
            [
                -0.04779, -0.04607, 0.04557, 0.01249, -0.01582, 0.02946, 0.01476, 0.03269,
            ],
        ),
        (
            "The printing press spread books across Europe. ".repeat(60),
            [
                0.02815, -0.0637, 0.00599, 0.00146, 0.00009, 0.03754, -0.05762, 0.02119,
            ],
        ),
    ];
    let encoder = encoder();
    let vectors = encoder
        .embed(cases.iter().map(|(text, _)| text.clone()).collect())
        .await
        .unwrap();
    for ((text, expected), vector) in cases.iter().zip(&vectors) {
        for (got, want) in vector.iter().zip(expected) {
            assert!(
                (got - want).abs() < 1e-3,
                "{text:.40}: {:?} against {expected:?}",
                &vector[..8]
            );
        }
    }
}
