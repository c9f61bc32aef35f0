"""Text models for listings: TF-IDF and naive-Bayes-weighted linear models, a pretrained MiniLM
sentence encoder (frozen or fine-tuned, loaded from the installed wheel, never downloaded) and a blend."""
