"""The staff pages: call log, call page, live calls, dashboard, exports."""
