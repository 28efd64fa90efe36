"""elksxl: templated bulk SMS through 46elks, straight from Excel."""

__version__ = "0.1.0"
