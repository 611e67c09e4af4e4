"""Investor domain: pages of institutional and individual investors and their rules. No I/O."""
