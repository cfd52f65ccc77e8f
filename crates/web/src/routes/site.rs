//! The site's own pages and files: about, terms, privacy, assets, robots.txt and sitemaps, and the
//! health, readiness and metrics endpoints for operators.

pub mod assets;
pub mod health;
pub mod pages;
pub mod search;
pub mod seo;
