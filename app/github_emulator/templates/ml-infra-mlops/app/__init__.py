"""Model Registry: versions, promotion gates and drift checks for deployed models."""
