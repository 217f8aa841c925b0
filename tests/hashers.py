"""A password hash as cheap as the tests need: the production algorithm (PBKDF2-SHA256) with
few rounds. The rounds travel in the hash, so a PlantOps process started by a test still
verifies it with its own settings; making a user costs a millisecond, not 0.3 s."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FewRoundsPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000
