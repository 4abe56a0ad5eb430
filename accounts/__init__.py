"""One ComponentResource per account role. Accounts compose components; they know no environment."""
