"""Reports built from the analytics: the annual public-institution energy report (energy.py
builds its content from analytics.statistics.energy_statistics; xlsx.py and pdf.py render it,
charts.py draws its charts; i18n.py holds its words in English and Simplified Chinese)."""
