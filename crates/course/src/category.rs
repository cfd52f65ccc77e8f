//! The subjects a course can belong to: the two-digit families of the Classification of Instructional
//! Programs (CIP 2020), the taxonomy 101.school used, each with its code, its name and the short name
//! its page has. The families that name kinds of programme rather than subjects (53, secondary
//! diplomas; 60 and 61, medical residencies) are left out: no course is about them.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A subject family. Only the entries of [`CATEGORIES`] exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Category {
    /// The CIP family's two digits, e.g. `26`: what is stored.
    pub code: &'static str,
    /// Its address on the site, e.g. `biology`.
    pub slug: &'static str,
    /// The CIP family's title, e.g. "Biological and Biomedical Sciences": what people and models read.
    pub name: &'static str,
}

macro_rules! categories {
    ($($code:literal, $slug:literal, $name:literal;)*) => {
        /// Every category, in CIP order.
        pub const CATEGORIES: &[Category] = &[$(Category { code: $code, slug: $slug, name: $name }),*];
    };
}

categories! {
    "01", "agriculture", "Agricultural, Animal, Plant, Veterinary Science and Related Fields";
    "03", "natural-resources", "Natural Resources and Conservation";
    "04", "architecture", "Architecture and Related Services";
    "05", "area-and-cultural-studies", "Area, Ethnic, Cultural, Gender, and Group Studies";
    "09", "communication-and-journalism", "Communication, Journalism, and Related Programs";
    "10", "communications-technologies", "Communications Technologies and Support Services";
    "11", "computer-science", "Computer and Information Sciences and Support Services";
    "12", "culinary-and-personal-services", "Culinary, Entertainment, and Personal Services";
    "13", "education", "Education";
    "14", "engineering", "Engineering";
    "15", "engineering-technologies", "Engineering and Engineering-Related Technologies";
    "16", "languages-and-linguistics", "Foreign Languages, Literatures, and Linguistics";
    "19", "family-and-consumer-sciences", "Family and Consumer Sciences, Human Sciences";
    "22", "law", "Legal Professions and Studies";
    "23", "english-and-literature", "English Language and Literature, Letters";
    "24", "liberal-arts-and-humanities", "Liberal Arts and Sciences, General Studies and Humanities";
    "25", "library-science", "Library Science";
    "26", "biology", "Biological and Biomedical Sciences";
    "27", "mathematics-and-statistics", "Mathematics and Statistics";
    "28", "military-science", "Military Science, Leadership and Operational Art";
    "29", "military-technologies", "Military Technologies and Applied Sciences";
    "30", "interdisciplinary-studies", "Multi/Interdisciplinary Studies";
    "31", "recreation-and-fitness", "Parks, Recreation, Leisure, Fitness, and Kinesiology";
    "32", "basic-skills", "Basic Skills and Developmental/Remedial Education";
    "33", "citizenship", "Citizenship Activities";
    "34", "health-knowledge", "Health-Related Knowledge and Skills";
    "35", "interpersonal-skills", "Interpersonal and Social Skills";
    "36", "leisure-activities", "Leisure and Recreational Activities";
    "37", "self-improvement", "Personal Awareness and Self-Improvement";
    "38", "philosophy-and-religion", "Philosophy and Religious Studies";
    "39", "theology", "Theology and Religious Vocations";
    "40", "physical-sciences", "Physical Sciences";
    "41", "science-technologies", "Science Technologies/Technicians";
    "42", "psychology", "Psychology";
    "43", "security-and-protective-services", "Homeland Security, Law Enforcement, Firefighting and Related Protective Services";
    "44", "public-administration", "Public Administration and Social Service Professions";
    "45", "social-sciences", "Social Sciences";
    "46", "construction", "Construction Trades";
    "47", "mechanics-and-repair", "Mechanic and Repair Technologies/Technicians";
    "48", "precision-production", "Precision Production";
    "49", "transportation", "Transportation and Materials Moving";
    "50", "arts", "Visual and Performing Arts";
    "51", "health-professions", "Health Professions and Related Programs";
    "52", "business", "Business, Management, Marketing, and Related Support Services";
    "54", "history", "History";
}

impl Category {
    /// The category with CIP code `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        CATEGORIES.iter().copied().find(|c| c.code == code)
    }

    /// The category whose page is at `slug`.
    pub fn from_slug(slug: &str) -> Option<Self> {
        CATEGORIES.iter().copied().find(|c| c.slug == slug)
    }

    /// The category named `name`, as a model or a person writes it: case and surrounding space do
    /// not matter.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        CATEGORIES
            .iter()
            .copied()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The schema of a category as a model names it: one of the names.
    pub fn schema() -> serde_json::Value {
        serde_json::json!({"type": "string", "enum": CATEGORIES.iter().map(|c| c.name).collect::<Vec<_>>()})
    }
}

/// Stored and sent as its code.
impl Serialize for Category {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

/// Read from its code, its slug or its name (how a model answers).
impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Category::from_code(&text)
            .or_else(|| Category::from_slug(&text))
            .or_else(|| Category::from_name(&text))
            .ok_or_else(|| D::Error::custom(format!("{text:?} is not a subject category")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_slugs_and_names_each_name_one_category() {
        for field in [
            |c: &Category| c.code,
            |c: &Category| c.slug,
            |c: &Category| c.name,
        ] {
            let distinct: HashSet<&str> = CATEGORIES.iter().map(field).collect();
            assert_eq!(distinct.len(), CATEGORIES.len());
        }
        for category in CATEGORIES {
            assert_eq!(category.code.len(), 2);
            assert_eq!(crate::slugify(category.slug), category.slug);
            assert_eq!(Category::from_code(category.code), Some(*category));
            assert_eq!(Category::from_slug(category.slug), Some(*category));
            assert_eq!(
                Category::from_name(&category.name.to_uppercase()),
                Some(*category)
            );
        }
    }

    #[test]
    fn a_category_is_stored_as_its_code_and_read_from_what_a_model_writes() {
        let biology = Category::from_code("26").unwrap();
        assert_eq!(serde_json::to_string(&biology).unwrap(), "\"26\"");
        for written in [
            "\"26\"",
            "\"biology\"",
            "\" biological and biomedical sciences \"",
        ] {
            assert_eq!(serde_json::from_str::<Category>(written).unwrap(), biology);
        }
        let error = serde_json::from_str::<Category>("\"Cooking\"").unwrap_err();
        assert!(error.to_string().contains("not a subject category"));
        assert_eq!(
            Category::schema()["enum"].as_array().unwrap().len(),
            CATEGORIES.len()
        );
    }
}
