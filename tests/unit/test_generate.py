import numpy as np

from skuflow.data.generate import CATEGORIES, DriftKnobs, generate_catalogue


def test_same_seed_same_catalogue():
    a = generate_catalogue(300, seed=3)
    b = generate_catalogue(300, seed=3)
    assert a.equals(b)
    assert not a.equals(generate_catalogue(300, seed=4))


def test_catalogue_has_canonical_fields_and_realistic_ranges():
    df = generate_catalogue(5000, seed=1)
    assert {"id", "title", "description", "brand", "seller_id", "price", "rating", "category", "image",
            "created_at"} <= set(df.columns)
    assert set(df["category"]) == set(CATEGORIES) and len(CATEGORIES) == 8
    assert df["price"].dropna().between(10, 500).all()
    assert df["rating"].between(2, 5).all()
    assert df["seller_id"].nunique() > 1000  # high cardinality, as on a marketplace
    assert df["brand"].nunique() > 300
    assert df["id"].is_unique
    assert df["created_at"].is_monotonic_increasing
    # fields other than the title go missing as in a marketplace export; the title never does
    missing = df[["description", "brand", "seller_id", "price"]].isna().mean()
    assert missing.between(0.05, 0.5).all() and df["title"].notna().all()
    # titles are written many ways from a broad vocabulary, often naming the brand
    assert df["title"].nunique() > 0.9 * len(df)
    assert (df["title"].str.lower().str.split().str[0] == df["brand"].str.lower().str.split().str[0]).mean() > 0.3


def test_vocabulary_is_broad_and_brands_cross_categories():
    from skuflow.data.vocabulary import VOCABULARY

    assert all(len(words.kinds) >= 70 for words in VOCABULARY.values())
    assert sum(len(words.kinds) for words in VOCABULARY.values()) >= 700
    homes: dict[str, set[str]] = {}
    for cat, words in VOCABULARY.items():
        for brand in words.brands:
            homes.setdefault(brand, set()).add(cat)
    assert sum(len(cats) > 1 for cats in homes.values()) >= 10  # Philips, Nike, Disney, ...


def test_drift_knobs_shift_distributions():
    base = generate_catalogue(3000, seed=2)
    pricier = generate_catalogue(3000, seed=2, knobs=DriftKnobs(price_scale=1.5))
    assert pricier["price"].median() > 1.3 * base["price"].median()
    bookish = generate_catalogue(3000, seed=2, knobs=DriftKnobs(category_weights={"books": 8.0}))
    assert (bookish["category"] == "books").mean() > 2 * (base["category"] == "books").mean()
    same_pop = generate_catalogue(3000, seed=2, knobs=DriftKnobs(new_seller_share=0.5))
    assert same_pop["seller_id"].str.startswith("N").mean() > 0.4
    assert np.isclose((base["seller_id"].str.startswith("N")).mean(), 0.0)
