"""The WeChat adapter: accounts of the alliance, the protocol (signatures, AES, XML), the API client, OAuth."""
