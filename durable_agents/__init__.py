"""Durable agents workbook."""
