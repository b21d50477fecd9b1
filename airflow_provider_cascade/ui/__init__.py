"""Cascade campaigns in the Airflow UI (Airflow 3.1+): a plugin with a campaigns list, a page
per campaign (also a tab of the DAG run and task instances) and an extra link on the send
operators and the sensor. They read the ledger root's per-campaign summaries only."""
