package auth

import "context"

// UsersPage returns accounts [offset, offset+limit) in ListUsers' order.
func (s *Service) UsersPage(ctx context.Context, offset, limit int) ([]*User, error) {
	us, err := s.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	if offset >= len(us) {
		return []*User{}, nil
	}
	return us[offset:min(offset+limit, len(us))], nil
}
