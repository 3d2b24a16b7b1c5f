"""The operators' view: the dashboard's pages and API, and the fleet model behind them,
fed from the output topics."""
